/**
 * The control app's composition root (Electron main process): on ready, the hub supervisor, the
 * window (the hub's /hub/admin once it answers, the local shell page until then), the tray, and
 * the IPC contract's handlers. Kept short: every decision lives in a module tested under Node;
 * this file only wires them to Electron and is not run in tests (no Electron binary here).
 */
import { app, BrowserWindow, ipcMain, Menu, shell } from 'electron';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createLogger } from '../hub/log.js';
import { readAdminToken } from './admin-token.js';
import { resolveAppConfig } from './app-config.js';
import { fetchHubSummary, type HubSummary } from './hub-client.js';
import { HubSupervisor } from './hub-supervisor.js';
import { InstallerRunner } from './installer-runner.js';
import { EVENTS, type EventChannel, type EventMap } from './ipc/contract.js';
import { createHandlers, registerHandlers } from './ipc/handlers.js';
import { installSecurity, isTrustedSender, type AllowList } from './security.js';
import { createSystemdControl } from './systemd.js';
import { TerminalManager } from './terminal.js';
import { createTray } from './tray.js';
import { createWindowOptions, nextWindowUrl } from './window.js';
import { readLabCa } from './lab-tls.js';

const SUMMARY_INTERVAL_MS = 15_000;

async function main(): Promise<void> {
  await app.whenReady();
  const log = createLogger({ name: 'app', logDir: app.getPath('logs') });
  // the app's root from this file's place (dist/main/index.js), so `electron .` and
  // `electron dist/main/index.js` agree (the latter makes app.getAppPath() dist/main)
  const appRoot = fileURLToPath(new URL('../../', import.meta.url));
  const cfg = resolveAppConfig(process.env, {
    appRoot,
    resourcesRoot: app.isPackaged ? process.resourcesPath : appRoot,
    execPath: process.execPath,
  });
  log.info({ configFile: cfg.configFile, dataDir: cfg.dataDir, problem: cfg.configProblem }, 'LabHub app starting');
  Menu.setApplicationMenu(null);

  const labCa = readLabCa(cfg.labCaCert);
  const supervisor = new HubSupervisor({
    command: cfg.hubCommand,
    env: cfg.hubEnv,
    // an invalid config makes `labhub serve` exit 2 at once: the crash-loop state then shows why
    dataDir: cfg.dataDir ?? '/nonexistent',
    labCa,
    systemd: createSystemdControl(),
  });
  const installer = new InstallerRunner({ script: cfg.installerScript });
  const terminals = new TerminalManager();
  const shellUrl = pathToFileURL(cfg.shellPage).href;
  const allow = (): AllowList => {
    const url = supervisor.status().hubUrl;
    return { origins: url ? [url] : [], files: [shellUrl] };
  };

  const win = new BrowserWindow(createWindowOptions({ preload: cfg.preload, icon: cfg.windowIcon }));
  installSecurity(win.webContents, win.webContents.session, allow, (url) => void shell.openExternal(url), labCa);
  app.on('web-contents-created', (_e, contents) => contents.on('will-attach-webview', (ev) => ev.preventDefault()));
  win.once('ready-to-show', () => win.show());
  // starting the app again (e.g. from the menu when the window is hidden in the tray) shows it
  app.on('second-instance', () => {
    win.show();
    win.focus();
  });

  const send = <E extends EventChannel>(event: E, payload: EventMap[E]) => {
    if (!win.isDestroyed()) win.webContents.send(event, payload);
  };
  const openHubInBrowser = () => {
    const url = supervisor.status().hubUrl;
    if (url) void shell.openExternal(url);
  };
  registerHandlers(ipcMain, createHandlers({ supervisor, installer, terminals, send, openExternal: openHubInBrowser }), {
    isTrustedSender: (url) => isTrustedSender(url, allow()),
    onUnexpectedError: (channel, err) => log.error({ err, channel }, 'IPC handler failed'),
  });

  let quitting = false;
  let summary: HubSummary | null = null;
  const tray = createTray(cfg.trayIcon, {
    'open-window': () => {
      win.show();
      win.focus();
    },
    'open-browser': openHubInBrowser,
    'restart-hub': () => void supervisor.restart().catch((err: unknown) => log.warn({ err }, 'restart failed')),
    quit: () => app.quit(),
  });
  const refreshSummary = async () => {
    const s = supervisor.status();
    summary = null;
    if (s.healthy && cfg.dataDir) {
      try {
        summary = await fetchHubSummary(readAdminToken(cfg.dataDir), undefined, labCa);
      } catch (err) {
        log.debug({ err }, 'tray figures unavailable'); // e.g. not in the admin group: the tray shows the state only
      }
    }
    tray.update(supervisor.status(), summary);
  };
  const summaryTimer = setInterval(() => void refreshSummary(), SUMMARY_INTERVAL_MS);

  supervisor.onStatus((s) => {
    send(EVENTS.hubStatusChanged, s);
    tray.update(s, summary);
    const next = nextWindowUrl(win.webContents.getURL(), s, shellUrl);
    if (next) win.loadURL(next).catch((err: unknown) => log.warn({ err, url: next }, 'could not load the page'));
  });

  // closing the window keeps the app (and the hub it supervises) running in the tray
  win.on('close', (e) => {
    if (quitting) return;
    e.preventDefault();
    win.hide();
  });
  app.on('before-quit', (e) => {
    if (quitting) return;
    quitting = true;
    e.preventDefault();
    clearInterval(summaryTimer);
    void Promise.allSettled([supervisor.close(), installer.close(), terminals.closeAll()]).then(() => {
      tray.destroy();
      app.exit(0);
    });
  });

  await win.loadURL(shellUrl);
  await supervisor.start();
  void refreshSummary();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  main().catch((err: unknown) => {
    // the app's user-facing last word when it cannot even start
    console.error('LabHub could not start:', err);
    app.exit(1);
  });
}
