/**
 * Options of the app's window, as a pure function so the security-relevant settings are tested
 * without Electron. Electron's security checklist
 * (https://www.electronjs.org/docs/latest/tutorial/security): context isolation, sandboxed
 * renderer, no Node integration, no <webview>; the page gets only the preload's `window.labhub`.
 */
import type { BrowserWindowConstructorOptions } from 'electron';
import type { HubStatus } from './ipc/contract.js';

export interface WindowOptionsInput {
  /** Absolute path of dist/main/preload.cjs. */
  preload: string;
  /** Absolute path of the window icon (PNG). */
  icon?: string;
  title?: string;
}

/** BrowserWindow options with every web preference LabHub relies on spelled out. */
export function createWindowOptions(input: WindowOptionsInput): BrowserWindowConstructorOptions {
  return {
    title: input.title ?? 'LabHub',
    width: 1200,
    height: 800,
    minWidth: 720,
    minHeight: 480,
    show: false, // shown on 'ready-to-show', so no white flash
    backgroundColor: '#ffffff',
    ...(input.icon ? { icon: input.icon } : {}),
    autoHideMenuBar: true,
    webPreferences: {
      preload: input.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}

/** The admin page of a hub. */
export function hubAdminUrl(hubUrl: string): string {
  return new URL('/hub/admin', hubUrl).href;
}

/**
 * Where the window should go for a hub status, or null to stay: the hub's admin page once the hub
 * answers, the local shell page (supervisor status, log tail) while there is no hub. A page of the
 * hub stays put while the hub is running, even through a failed health check.
 */
export function nextWindowUrl(currentUrl: string, status: Pick<HubStatus, 'state' | 'healthy' | 'hubUrl'>, shellUrl: string): string | null {
  const live = status.state === 'running' || status.state === 'external';
  const onShell = stripHash(currentUrl) === stripHash(shellUrl);
  if (live && status.healthy && status.hubUrl !== null) {
    return sameOrigin(currentUrl, status.hubUrl) ? null : hubAdminUrl(status.hubUrl);
  }
  if (live || onShell) return null;
  return shellUrl;
}

function stripHash(url: string): string {
  const i = url.indexOf('#');
  return i < 0 ? url : url.slice(0, i);
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
