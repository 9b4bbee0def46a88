/**
 * "This machine" — only in the desktop app (`window.labhub` from the Electron preload): the
 * supervisor's view of the hub service with its log tail and a restart button, the installer
 * streamed into a terminal, and a terminal as a student (for helping them from the lab machine).
 */
import { CHANNELS, EVENTS, desktopBridge, invoke, type StreamData, type StreamExit, type SupervisorStatus } from '../desktop.js';
import { confirmDialog } from '../components/dialog.js';
import { dateTime, relativeTime } from '../components/format.js';
import { h, replaceChildren } from '../components/h.js';
import { errorText, notify } from '../components/notice.js';
import { poll } from '../components/poller.js';
import { createTerminal, fitSize, type XTerminal } from '../components/xterm.js';
import { InstallerProgress } from './installer-progress.js';
import type { View } from './view.js';

/**
 * Holds a stream's events that arrive while the call that starts it has not answered yet (its id
 * is not known), then replays them in order once it has.
 */
class EarlyEvents {
  private queue: (() => void)[] | null = null;

  start(): void {
    this.queue = [];
  }

  /** True when the event was held for later. */
  hold(replay: () => void): boolean {
    if (!this.queue) return false;
    this.queue.push(replay);
    return true;
  }

  replay(): void {
    const q = this.queue ?? [];
    this.queue = null;
    for (const f of q) f();
  }
}

const STATE_TEXT: Record<SupervisorStatus['state'], string> = {
  stopped: 'stopped',
  starting: 'starting',
  running: 'running',
  restarting: 'restarting',
  'crash-loop': 'keeps crashing',
  external: 'running (started outside the app)',
};

function statusFacts(s: SupervisorStatus): (HTMLElement | null)[] {
  const good = (s.state === 'running' || s.state === 'external') && s.healthy;
  const last = s.exits[s.exits.length - 1];
  return [
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'State'),
      h('dd', null, h('span', { class: `pill ${good ? 'ok' : s.state === 'crash-loop' || s.state === 'stopped' ? 'bad' : ''}`, id: 'supervisor-state' }, STATE_TEXT[s.state] ?? s.state), ` since ${relativeTime(s.since)}`),
      h('dt', null, 'Health'),
      h('dd', null, s.healthy ? 'answering' : 'not answering'),
      h('dt', null, 'Managed by'),
      h('dd', null, s.mode === 'child' ? 'this app' : s.mode === 'systemd' ? 'systemd (labhub.service)' : s.mode === 'external' ? 'someone else' : '—'),
      h('dt', null, 'Address'),
      h('dd', null, s.hubUrl ?? '—'),
      h('dt', null, 'Process'),
      h('dd', null, s.pid ? `pid ${s.pid}` : '—'),
      h('dt', null, 'Restarts after crashes'),
      h('dd', null, String(s.restarts), last ? ` (last exit ${last.code ?? last.signal} at ${dateTime(last.at)})` : ''),
    ),
    s.message ? h('p', { class: 'notice' }, s.message) : null,
  ];
}

export const machineView: View = {
  id: 'machine',
  title: 'This machine',
  available: () => desktopBridge() !== null,
  mount(root, { api }) {
    const bridge = desktopBridge()!;
    const cleanups: (() => void)[] = [];
    let alive = true;

    // ---- the hub service
    const facts = h('div', null, h('p', { class: 'muted' }, 'Asking the app…'));
    const restart = h('button', { type: 'button', class: 'small', id: 'hub-restart' }, 'Restart hub');
    const showStatus = (s: SupervisorStatus) => replaceChildren(facts, statusFacts(s));
    restart.addEventListener('click', async () => {
      if (!(await confirmDialog('Restart the hub', 'Restart the hub now? Students\' running servers and open notebooks keep running; logins pause for a few seconds.', 'Restart'))) return;
      restart.disabled = true;
      try {
        showStatus(await invoke<SupervisorStatus>(CHANNELS.hubRestart));
      } catch (err) {
        notify(`Restart failed: ${errorText(err)}`, 'error');
      } finally {
        restart.disabled = false;
      }
    });
    invoke<SupervisorStatus>(CHANNELS.hubStatus).then(
      (s) => alive && showStatus(s),
      (err) => alive && replaceChildren(facts, h('div', { class: 'error' }, errorText(err))),
    );
    cleanups.push(bridge.on(EVENTS.hubStatusChanged, (s: SupervisorStatus) => showStatus(s)));

    const log = h('pre', { class: 'log-output short', id: 'supervisor-log', tabindex: 0, 'aria-label': 'Hub log' });
    const logPoller = poll(async () => {
      try {
        const lines = await invoke<string[]>(CHANNELS.hubLogTail, 100);
        const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
        log.textContent = lines.join('\n') || 'The log is empty.';
        if (atBottom) log.scrollTop = log.scrollHeight;
      } catch (err) {
        log.textContent = errorText(err);
      }
    }, 3000);
    cleanups.push(() => logPoller.stop());

    // ---- installer
    const installArea = h('div', { class: 'terminal', id: 'installer-terminal', hidden: true });
    const installStatus = h('p', { class: 'muted', id: 'installer-status', 'aria-live': 'polite' });
    // the installer's "==> [i/N] …" steps, as a bar above its output
    const installBar = h('progress', { id: 'installer-progress', max: 1, value: 0, hidden: true, 'aria-label': 'Installer progress' });
    const progress = new InstallerProgress();
    const install = h('button', { type: 'button', id: 'install-run' }, 'Install LabHub on this machine');
    const cancel = h('button', { type: 'button', class: 'secondary', id: 'install-cancel', hidden: true }, 'Cancel');
    let installTerm: XTerminal | null = null;
    let installId: string | null = null;
    // main may send output (even the exit) before `installer:run` has answered with the run's id
    const installEarly = new EarlyEvents();
    install.addEventListener('click', async () => {
      const ok = await confirmDialog(
        'Install LabHub',
        'Run the LabHub installer on this machine? It installs the packages LabHub needs, sets up its services and starts them. Running it again upgrades an existing install.',
        'Install',
      );
      if (!ok) return;
      install.disabled = true;
      installArea.hidden = false;
      try {
        installTerm ??= await createTerminal(installArea, { readOnly: true, rows: 20 });
        installTerm.reset();
        // xterm.js does not render while off screen
        installArea.scrollIntoView({ block: 'nearest' });
        installStatus.textContent = 'Installing…';
        progress.reset();
        installBar.value = 0;
        installBar.hidden = false;
        installEarly.start();
        installId = (await invoke<{ id: string }>(CHANNELS.installerRun, { cols: installTerm.cols, rows: installTerm.rows })).id;
        cancel.hidden = false;
        installEarly.replay();
      } catch (err) {
        installEarly.replay();
        installStatus.textContent = `Could not start the installer: ${errorText(err)}`;
        install.disabled = false;
      }
    });
    cancel.addEventListener('click', () => {
      if (installId) invoke(CHANNELS.installerCancel, installId).catch((err) => notify(errorText(err), 'error'));
    });
    const onInstallOutput = (e: StreamData) => {
      if (installEarly.hold(() => onInstallOutput(e))) return;
      if (e.id !== installId) return;
      installTerm?.write(e.data);
      if (progress.push(e.data) && progress.step) {
        const { index, total, text } = progress.step;
        installBar.max = total;
        installBar.value = index - 1;
        installStatus.textContent = `Step ${index} of ${total}: ${text}`;
      }
    };
    const onInstallExit = (e: StreamExit) => {
      if (installEarly.hold(() => onInstallExit(e))) return;
      if (e.id !== installId) return;
      installId = null;
      cancel.hidden = true;
      install.disabled = false;
      if (e.exitCode === 0) installBar.value = installBar.max;
      else installBar.hidden = true;
      installStatus.textContent = e.cancelled ? 'Cancelled.' : e.exitCode === 0 ? 'Installed. The hub starts in a moment.' : `The installer failed (exit ${e.exitCode ?? `signal ${e.signal}`}): see its output above.`;
    };
    cleanups.push(bridge.on(EVENTS.installerOutput, onInstallOutput), bridge.on(EVENTS.installerExit, onInstallExit));

    // ---- terminal as a student
    const who = h('input', { type: 'text', id: 'terminal-user', list: 'terminal-users', autocomplete: 'off', spellcheck: 'false', required: true });
    const users = h('datalist', { id: 'terminal-users' });
    const openTerm = h('button', { type: 'submit', class: 'small' }, 'Open terminal');
    const closeTerm = h('button', { type: 'button', class: 'small secondary', hidden: true }, 'Close terminal');
    const termArea = h('div', { class: 'terminal', id: 'student-terminal', hidden: true });
    const termStatus = h('p', { class: 'muted', 'aria-live': 'polite' });
    let term: XTerminal | null = null;
    let termId: string | null = null;
    const termEarly = new EarlyEvents();
    let inputSub: { dispose(): void } | null = null;
    void api.users().then((list) => users.replaceChildren(...list.filter((u) => u.linux !== false).map((u) => h('option', { value: u.name }, u.fullName ?? ''))), () => undefined);
    const closeSession = () => {
      if (termId) void invoke(CHANNELS.terminalClose, termId).catch(() => undefined);
      termId = null;
      closeTerm.hidden = true;
    };
    const form = h('form', { class: 'inline-form' }, h('label', { for: who.id }, 'Open a terminal as'), who, users, openTerm, closeTerm);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const name = who.value.trim();
      if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name) || name === 'root') return void (termStatus.textContent = 'Enter a student\'s user name.');
      closeSession();
      termArea.hidden = false;
      try {
        term ??= await createTerminal(termArea, { rows: 24 });
        term.reset();
        termArea.scrollIntoView({ block: 'nearest' });
        inputSub?.dispose();
        const t = term;
        termEarly.start();
        try {
          termId = (await invoke<{ id: string }>(CHANNELS.terminalOpen, name, { cols: t.cols, rows: t.rows })).id;
        } finally {
          termEarly.replay();
        }
        inputSub = t.onData((data) => termId && void invoke(CHANNELS.terminalInput, termId, data).catch(() => undefined));
        closeTerm.hidden = false;
        termStatus.textContent = `Terminal as ${name}.`;
        t.focus();
      } catch (err) {
        termStatus.textContent = `Could not open a terminal as ${name}: ${errorText(err)}`;
      }
    });
    closeTerm.addEventListener('click', () => {
      closeSession();
      termStatus.textContent = 'Closed.';
    });
    const onResize = () => {
      if (!term || !termId) return;
      const size = fitSize(termArea, 13, term.rows);
      if (size.cols === term.cols) return;
      term.resize(size.cols, size.rows);
      void invoke(CHANNELS.terminalResize, termId, size).catch(() => undefined);
    };
    window.addEventListener('resize', onResize);
    cleanups.push(
      () => window.removeEventListener('resize', onResize),
      bridge.on(EVENTS.terminalData, function onData(e: StreamData) {
        if (termEarly.hold(() => onData(e))) return;
        if (e.id === termId) term?.write(e.data);
      }),
      bridge.on(EVENTS.terminalExit, function onExit(e: StreamExit) {
        if (termEarly.hold(() => onExit(e))) return;
        if (e.id !== termId) return;
        termId = null;
        closeTerm.hidden = true;
        termStatus.textContent = `The shell ended (exit ${e.exitCode ?? `signal ${e.signal}`}).`;
      }),
      () => {
        closeSession();
        inputSub?.dispose();
        term?.dispose();
        installTerm?.dispose();
      },
    );

    root.append(
      h('div', { class: 'view-head' }, h('h1', null, 'This machine')),
      h('section', { class: 'card' }, h('div', { class: 'view-head' }, h('h2', null, 'LabHub service'), restart), facts, h('h3', null, 'Hub log'), log),
      h('section', { class: 'card' }, h('h2', null, 'Install or upgrade'), h('p', { class: 'muted small' }, 'Runs the one-command installer with administrator rights; the output appears below.'), h('div', { class: 'buttons' }, install, cancel), installBar, installStatus, installArea),
      h('section', { class: 'card' }, h('h2', null, 'Terminal'), h('p', { class: 'muted small' }, 'A shell as the student, in their home folder, to see what they see.'), form, termStatus, termArea),
    );
    return () => {
      alive = false;
      for (const c of cleanups) c();
    };
  },
};
