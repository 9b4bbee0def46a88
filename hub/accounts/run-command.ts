/**
 * How account management runs system tools: argv arrays (never a shell), a fixed PATH and
 * `LC_ALL=C` (stable messages, nothing inherited from the hub's environment), input on stdin.
 * A failing tool becomes a HubError that names the tool and says what it printed.
 */
import { spawn } from 'node:child_process';
import { HubError } from '../errors.js';

/** Exit code and output of a finished command (output capped at 1 MB each). */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command; resolves with its exit code (never rejects for one), rejects only if it cannot start. */
export type CommandRunner = (cmd: string, args: readonly string[], opts?: { input?: string; timeoutMs?: number }) => Promise<CommandResult>;

const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
const MAX_OUTPUT = 1024 * 1024;

/** Runs a command as described above; `timeoutMs` SIGKILLs it when it hangs. */
export const runCommand: CommandRunner = (cmd, args, opts = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
    });
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : null;
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? 128, stdout, stderr: signal ? `${stderr}killed by ${signal}` : stderr });
    });
    child.stdin.on('error', () => undefined); // EPIPE when a tool exits without reading its input
    child.stdin.end(opts.input ?? '');
  });
/** A failed tool as a message that says which tool and what it printed. */
export function commandError(cmd: string, r: CommandResult): HubError {
  const said = (r.stderr.trim() || r.stdout.trim() || `exit code ${r.code}`).slice(0, 600);
  return new HubError('HUB_ERR_ACCOUNT_COMMAND', `${cmd} failed: ${said}`);
}
