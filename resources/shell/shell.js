// The shell page's script (a classic script: file:// pages cannot load modules). Everything goes
// through window.labhub, the preload's bridge; results come in the { ok, value | error } envelope.
'use strict';

(function () {
  const api = window.labhub;
  const $ = (id) => document.getElementById(id);
  const LABELS = {
    stopped: 'The hub is stopped.',
    starting: 'The hub is starting…',
    running: 'The hub is running.',
    restarting: 'The hub is restarting…',
    'crash-loop': 'The hub keeps stopping; the app has stopped restarting it.',
    external: 'The hub is running (installed service, or started outside the app).',
  };
  // colours are for the renderer's xterm.js; this plain page shows the text only
  const stripAnsi = (s) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r/g, '');
  let installerId = null;

  if (!api) {
    $('state').textContent = 'This page only works inside the LabHub app.';
    return;
  }

  function show(result, onValue) {
    if (result.ok) return onValue(result.value);
    $('message').hidden = false;
    $('message').textContent = result.error.message;
  }

  function render(status) {
    $('state').textContent = LABELS[status.state] || status.state;
    $('state').dataset.state = status.state;
    $('message').hidden = !status.message;
    $('message').textContent = status.message || '';
    $('url').hidden = !status.hubUrl;
    $('url').textContent = status.hubUrl ? `Address: ${status.hubUrl}` : '';
    $('restart').textContent = status.state === 'crash-loop' || status.state === 'stopped' ? 'Start hub' : 'Restart hub';
    $('restart').disabled = status.mode === 'external' || status.state === 'starting' || status.state === 'restarting';
    $('browser').disabled = !(status.healthy && status.hubUrl);
    refreshLog();
  }

  async function refreshLog() {
    show(await api.invoke('hub:log-tail', 200), (lines) => {
      $('log').textContent = lines.join('\n');
    });
  }

  $('restart').addEventListener('click', async () => show(await api.invoke('hub:restart'), render));
  $('browser').addEventListener('click', async () => show(await api.invoke('app:open-external'), () => undefined));
  $('install').addEventListener('click', async () => {
    show(await api.invoke('installer:run'), ({ id }) => {
      installerId = id;
      $('installer').hidden = false;
      $('installer-output').textContent = '';
      $('install').disabled = true;
      $('cancel').hidden = false;
    });
  });
  $('cancel').addEventListener('click', async () => {
    if (installerId) show(await api.invoke('installer:cancel', installerId), () => undefined);
  });

  api.on('installer:output', ({ id, data }) => {
    if (id === installerId) $('installer-output').textContent += stripAnsi(data);
  });
  api.on('installer:exit', ({ id, exitCode, cancelled }) => {
    if (id !== installerId) return;
    $('installer-output').textContent += `\n${cancelled ? 'Cancelled' : `Finished (exit code ${exitCode})`}\n`;
    $('install').disabled = false;
    $('cancel').hidden = true;
    installerId = null;
  });
  api.on('hub:status-changed', render);
  api.invoke('hub:status').then((r) => show(r, render));
})();
