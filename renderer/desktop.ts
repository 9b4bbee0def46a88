/**
 * The Electron preload's bridge (`window.labhub`), present only in the desktop app. Channel names
 * and payloads mirror main/ipc/contract.ts (the renderer is compiled on its own, so it cannot
 * import it; test/e2e/admin-desktop.test.ts checks the two agree). Results come in an
 * `{ ok, value } | { ok: false, error }` envelope because Electron drops custom error fields.
 */

export const CHANNELS = {
  hubStatus: 'hub:status',
  hubRestart: 'hub:restart',
  hubLogTail: 'hub:log-tail',
  installerRun: 'installer:run',
  installerCancel: 'installer:cancel',
  terminalOpen: 'terminal:open',
  terminalInput: 'terminal:input',
  terminalResize: 'terminal:resize',
  terminalClose: 'terminal:close',
} as const;

export const EVENTS = {
  hubStatusChanged: 'hub:status-changed',
  installerOutput: 'installer:output',
  installerExit: 'installer:exit',
  terminalData: 'terminal:data',
  terminalExit: 'terminal:exit',
} as const;

/** The supervisor's snapshot (`hub:status`, `hub:status-changed`). */
export interface SupervisorStatus {
  state: 'stopped' | 'starting' | 'running' | 'restarting' | 'crash-loop' | 'external';
  mode: 'child' | 'systemd' | 'external' | 'none';
  hubUrl: string | null;
  healthy: boolean;
  pid: number | null;
  restarts: number;
  exits: { code: number | null; signal: string | null; at: string }[];
  message: string | null;
  since: string;
}

export interface TerminalSize {
  cols: number;
  rows: number;
}

export interface StreamData {
  id: string;
  data: string;
}

export interface StreamExit {
  id: string;
  exitCode: number | null;
  signal: number | null;
  cancelled?: boolean;
}

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

export interface DesktopBridge {
  invoke(channel: string, ...args: unknown[]): Promise<IpcResult<unknown>>;
  on(event: string, listener: (payload: any) => void): () => void;
}

declare global {
  interface Window {
    labhub?: DesktopBridge;
  }
}

export function desktopBridge(): DesktopBridge | null {
  return window.labhub ?? null;
}

/** Calls a channel and unwraps the envelope (throws with the main process's message). */
export async function invoke<T>(channel: string, ...args: unknown[]): Promise<T> {
  const bridge = desktopBridge();
  if (!bridge) throw new Error('only available in the LabHub desktop app');
  const r = await bridge.invoke(channel, ...args);
  if (!r.ok) throw Object.assign(new Error(r.error.message || r.error.code), { code: r.error.code });
  return r.value as T;
}
