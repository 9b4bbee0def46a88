/**
 * The one IPC contract between the Electron main process and the renderer: channel names, their
 * signatures, argument validators and the result envelope. Electron's `invoke` drops every field
 * of a thrown error except its message (https://www.electronjs.org/docs/latest/api/ipc-main), so
 * handlers never throw across the bridge: they answer `{ ok: true, value }` or
 * `{ ok: false, error: { code, message } }`. Arguments come from a web page and are validated
 * here before main uses them. No Node or Electron imports: the renderer and preload share it.
 */

/** Renderer → main request channels (`ipcRenderer.invoke`). */
export const INVOKE = {
  hubStatus: 'hub:status',
  hubRestart: 'hub:restart',
  hubLogTail: 'hub:log-tail',
  hubUrl: 'hub:url',
  installerRun: 'installer:run',
  installerCancel: 'installer:cancel',
  terminalOpen: 'terminal:open',
  terminalInput: 'terminal:input',
  terminalResize: 'terminal:resize',
  terminalClose: 'terminal:close',
  openExternal: 'app:open-external',
} as const;

/** Main → renderer event channels (`webContents.send`). */
export const EVENTS = {
  hubStatusChanged: 'hub:status-changed',
  installerOutput: 'installer:output',
  installerExit: 'installer:exit',
  terminalData: 'terminal:data',
  terminalExit: 'terminal:exit',
} as const;

export type InvokeChannel = (typeof INVOKE)[keyof typeof INVOKE];
export type EventChannel = (typeof EVENTS)[keyof typeof EVENTS];

/** What the supervisor is doing with the hub; `external` = found running (systemd or someone else's). */
export type HubState = 'stopped' | 'starting' | 'running' | 'restarting' | 'crash-loop' | 'external';

export interface HubExit {
  code: number | null;
  signal: string | null;
  /** ISO-8601 */
  at: string;
}

/** The supervisor's snapshot, sent on `hub:status` and `hub:status-changed`. */
export interface HubStatus {
  state: HubState;
  /** child: `labhub serve` is our child process; systemd: labhub.service; external: someone else's. */
  mode: 'child' | 'systemd' | 'external' | 'none';
  /** Public URL (the proxy), e.g. `http://127.0.0.1:8000`; null until known. */
  hubUrl: string | null;
  /** True while `GET <hubUrl>/hub/health` answers 200. */
  healthy: boolean;
  pid: number | null;
  /** Restarts after crashes since the last start by hand. */
  restarts: number;
  /** Recent exits of the child, oldest first. */
  exits: HubExit[];
  /** What a person should know (why it is not running, what to do); null when all is well. */
  message: string | null;
  /** ISO-8601 time of the last state change. */
  since: string;
}

export interface TerminalSize {
  cols: number;
  rows: number;
}

export interface InstallerExit {
  id: string;
  exitCode: number | null;
  signal: number | null;
  cancelled: boolean;
}

export interface TerminalExit {
  id: string;
  exitCode: number | null;
  signal: number | null;
}

/** Argument tuple and result of each request channel. */
export interface InvokeMap {
  'hub:status': { args: []; result: HubStatus };
  'hub:restart': { args: []; result: HubStatus };
  'hub:log-tail': { args: [lines?: number]; result: string[] };
  'hub:url': { args: []; result: string | null };
  'installer:run': { args: [size?: TerminalSize]; result: { id: string } };
  'installer:cancel': { args: [id: string]; result: void };
  'terminal:open': { args: [user: string, size?: TerminalSize]; result: { id: string } };
  'terminal:input': { args: [id: string, data: string]; result: void };
  'terminal:resize': { args: [id: string, size: TerminalSize]; result: void };
  'terminal:close': { args: [id: string]; result: void };
  /** Opens the hub's URL (only that) in the system browser. */
  'app:open-external': { args: []; result: void };
}

/** Payload of each event channel. */
export interface EventMap {
  'hub:status-changed': HubStatus;
  'installer:output': { id: string; data: string };
  'installer:exit': InstallerExit;
  'terminal:data': { id: string; data: string };
  'terminal:exit': TerminalExit;
}

export type InvokeArgs<C extends InvokeChannel> = InvokeMap[C]['args'];
export type InvokeResult<C extends InvokeChannel> = InvokeMap[C]['result'];

export type IpcErrorCode = 'BAD_ARGS' | 'NOT_ALLOWED' | 'NOT_FOUND' | 'BUSY' | 'UNSUPPORTED' | 'PRIVILEGED_FAILED' | 'INTERNAL';

export interface IpcError {
  code: IpcErrorCode;
  message: string;
}

/** The envelope every request channel answers with. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: IpcError };

/** An error a handler means to show the renderer: its code and message cross the bridge as they are. */
export class ContractError extends Error {
  constructor(
    readonly code: IpcErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ContractError';
  }
}

const invokeChannels: ReadonlySet<string> = new Set(Object.values(INVOKE));
const eventChannels: ReadonlySet<string> = new Set(Object.values(EVENTS));

export function isInvokeChannel(c: unknown): c is InvokeChannel {
  return typeof c === 'string' && invokeChannels.has(c);
}

export function isEventChannel(c: unknown): c is EventChannel {
  return typeof c === 'string' && eventChannels.has(c);
}

/** Linux user names LabHub accepts (as in the hub's config schema); `root` is never a student. */
export const LINUX_USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** Largest `terminal:input` chunk (a paste); bigger ones are refused rather than truncated. */
export const MAX_INPUT_CHARS = 64 * 1024;

const ID = /^[A-Za-z0-9_-]{1,64}$/;

function bad(message: string): never {
  throw new ContractError('BAD_ARGS', message);
}

function arity(args: unknown[], min: number, max: number): void {
  if (args.length < min || args.length > max) bad(`expected ${min === max ? min : `${min}-${max}`} argument(s), got ${args.length}`);
}

function id(v: unknown): string {
  if (typeof v !== 'string' || !ID.test(v)) bad('expected a session id');
  return v;
}

function size(v: unknown): TerminalSize {
  const s = v as Partial<TerminalSize> | null;
  const dim = (n: unknown, max: number) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= max;
  if (typeof s !== 'object' || s === null || !dim(s.cols, 1000) || !dim(s.rows, 500)) bad('expected { cols: 1-1000, rows: 1-500 }');
  return { cols: s.cols as number, rows: s.rows as number };
}

/** A student account name: a valid Linux user name and not root (main checks the account itself). */
export function validUserName(v: unknown): string {
  if (typeof v !== 'string' || !LINUX_USER_NAME.test(v)) bad('expected a Linux user name');
  if (v === 'root') bad('a terminal as root is not offered');
  return v;
}

type Validators = { [C in InvokeChannel]: (args: unknown[]) => InvokeArgs<C> };

/** Runtime checks of the untrusted renderer's arguments; each returns a clean copy or throws BAD_ARGS. */
export const VALIDATORS: Validators = {
  'hub:status': (a) => (arity(a, 0, 0), []),
  'hub:restart': (a) => (arity(a, 0, 0), []),
  'hub:log-tail': (a) => {
    arity(a, 0, 1);
    if (a[0] === undefined) return [];
    if (!Number.isInteger(a[0]) || (a[0] as number) < 1 || (a[0] as number) > 10_000) bad('lines: expected 1-10000');
    return [a[0] as number];
  },
  'hub:url': (a) => (arity(a, 0, 0), []),
  'installer:run': (a) => (arity(a, 0, 1), a[0] === undefined ? [] : [size(a[0])]),
  'installer:cancel': (a) => (arity(a, 1, 1), [id(a[0])]),
  'terminal:open': (a) => {
    arity(a, 1, 2);
    const user = validUserName(a[0]);
    return a[1] === undefined ? [user] : [user, size(a[1])];
  },
  'terminal:input': (a) => {
    arity(a, 2, 2);
    if (typeof a[1] !== 'string' || a[1].length > MAX_INPUT_CHARS) bad(`data: expected a string of at most ${MAX_INPUT_CHARS} characters`);
    return [id(a[0]), a[1]];
  },
  'terminal:resize': (a) => (arity(a, 2, 2), [id(a[0]), size(a[1])]),
  'terminal:close': (a) => (arity(a, 1, 1), [id(a[0])]),
  'app:open-external': (a) => (arity(a, 0, 0), []),
};

/** For renderer code that prefers exceptions: the value, or an Error whose `code` is the envelope's. */
export function unwrap<T>(r: Result<T>): T {
  if (r.ok) return r.value;
  throw Object.assign(new Error(r.error.message), { code: r.error.code });
}
