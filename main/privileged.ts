/**
 * The one way the app runs privileged work (installer, service control, terminals as students):
 * directly when the app runs as root, otherwise through `pkexec`, which asks polkit for an
 * administrator's password. argv arrays only, never a shell string. A failure rejects with a
 * `PrivilegedError` that keeps the command, exit code, stdout and stderr (podman-desktop's Exec).
 */
import { spawn } from 'node:child_process';

/** pkexec's own exit codes (pkexec(1)): the command did not run at all. */
const PKEXEC_DISMISSED = 126;
const PKEXEC_NOT_AUTHORIZED = 127;

/** True when this process may do privileged work itself. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The argv to execute for a privileged command: as is for root, else prefixed with `pkexec`. */
export function privilegedArgv(argv: readonly string[], root = isRoot()): string[] {
  if (argv.length === 0) throw new Error('privilegedArgv: empty command');
  return root ? [...argv] : ['pkexec', ...argv];
}

/** A privileged command that could not run or did not succeed. */
export class PrivilegedError extends Error {
  constructor(
    /** The command as asked for (without the pkexec prefix). */
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stdout: string,
    readonly stderr: string,
    viaPkexec: boolean,
    cause?: Error,
  ) {
    super(describe(command, exitCode, signal, stderr, viaPkexec, cause), cause ? { cause } : undefined);
    this.name = 'PrivilegedError';
  }
}

function describe(command: readonly string[], code: number | null, signal: string | null, stderr: string, viaPkexec: boolean, cause?: Error): string {
  const cmd = command.join(' ');
  if (cause) return `could not run ${cmd}: ${cause.message}`;
  if (viaPkexec && code === PKEXEC_DISMISSED) return `${cmd}: the administrator password dialog was dismissed`;
  if (viaPkexec && code === PKEXEC_NOT_AUTHORIZED) return `${cmd}: not authorised (polkit refused, or no polkit agent is running)`;
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  const detail = stderr.trim().split('\n').slice(-3).join(' / ');
  return `${cmd} ${how}${detail ? `: ${detail}` : ''}`;
}

export interface PrivilegedOptions {
  /** Written to the command's stdin (e.g. passwords), never put in argv. */
  input?: string;
  /** Kill it (SIGKILL) after this long; default none. */
  timeoutMs?: number;
  /** Override the root check (tests, or a caller that knows better). */
  root?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command with privileges; resolves with its output when it exits 0. */
export function runPrivileged(argv: readonly string[], opts: PrivilegedOptions = {}): Promise<{ stdout: string; stderr: string }> {
  const root = opts.root ?? isRoot();
  const full = privilegedArgv(argv, root);
  return new Promise((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : null;
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(new PrivilegedError(argv, null, null, stdout, stderr, !root, err));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new PrivilegedError(argv, code, signal, stdout, stderr, !root));
    });
    child.stdin.on('error', () => undefined); // the command may exit without reading its input
    child.stdin.end(opts.input ?? '');
  });
}
