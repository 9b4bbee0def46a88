/**
 * Runs restic: argv arrays (never a shell), a fixed environment (`RESTIC_REPOSITORY`,
 * `RESTIC_PASSWORD_FILE`, `RESTIC_CACHE_DIR`, the config's `environment`, `LC_ALL=C` for stable
 * messages). The password is only ever in its file: never in argv, the environment or a log line.
 * Failures are classified from restic's words (restic 0.14, the Debian 12 package) so the hub can
 * say "is the backup disk mounted?" instead of restic's stack of messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log.js';

/** Where and how restic runs. */
export interface ResticOptions {
  binary: string;
  repository: string;
  passwordFile: string;
  cacheDir: string;
  /** Backend credentials from the config; never logged. */
  environment: Readonly<Record<string, string>>;
}

/** A finished restic process. `stdout` has every line except `backup --json` progress lines. */
export interface ResticResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Set when LabHub stopped restic because its progress stood still (see `run`). */
  stalled?: { seconds: number; bytesDone: number };
}

/** The part of a `backup --json` status line that changes while restic makes progress. */
function progressOf(line: string): { key: string; bytesDone: number } | null {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    return { key: `${v.files_done}/${v.total_files}/${v.bytes_done}/${v.total_bytes}/${v.error_count}`, bytesDone: Number(v.bytes_done) || 0 };
  } catch {
    return null;
  }
}

/** Why restic failed, as far as its words tell. */
export type ResticFailureKind = 'wrong-password' | 'no-repository' | 'locked' | 'disk-full' | 'not-installed' | 'other';

const MAX_STDOUT = 256 * 1024 * 1024;
const MAX_STDERR = 1024 * 1024;

/** The environment restic gets; the repository settings win over `environment`. */
export function resticEnv(o: ResticOptions): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    LC_ALL: 'C',
    HOME: '/root',
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    ...o.environment,
    RESTIC_REPOSITORY: o.repository,
    RESTIC_PASSWORD_FILE: o.passwordFile,
    RESTIC_CACHE_DIR: o.cacheDir,
  };
}

/** Parses JSON lines, skipping anything that is not a JSON object or array (restic mixes in text). */
export function parseJsonLines(text: string): unknown[] {
  const out: unknown[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{') && !t.startsWith('[')) continue;
    try {
      out.push(JSON.parse(t));
    } catch {
      // a progress line cut short or text that happens to start with a brace
    }
  }
  return out;
}

/** Classifies a failure from restic's stderr (and a spawn error code). */
export function classifyFailure(stderr: string, spawnCode?: string): ResticFailureKind {
  if (spawnCode === 'ENOENT' || spawnCode === 'EACCES') return 'not-installed';
  const s = stderr.toLowerCase();
  if (s.includes('wrong password or no key found')) return 'wrong-password';
  if (s.includes('no space left on device') || s.includes('disk quota exceeded')) return 'disk-full';
  if (s.includes('is already locked')) return 'locked';
  if (s.includes('is there a repository at the following location') || s.includes('unable to open config file')) return 'no-repository';
  return 'other';
}

/** The meaningful part of restic's stderr: no progress or JSON lines, at most `max` characters. */
export function stderrSummary(stderr: string, max = 600): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('{') && !/^\[\d+:\d+\]/.test(l));
  const text = lines.join('\n');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The lock holder restic names ("by PID 123 on host by root …\nlock was created at …"), if any. */
export function lockHolder(stderr: string): string | null {
  const m = /locked(?: exclusively)? by (PID \d+ on \S+ by [^\n]*?)\s*(?:\n|$)(?:lock was created at ([^\n(]+))?/i.exec(stderr);
  if (!m) return null;
  return m[2] ? `${m[1]}, since ${m[2].trim()}` : m[1]!;
}

/** Credentials in a repository URL masked (`rest:https://u:secret@h/` → `rest:https://u:***@h/`). */
export function maskRepository(repository: string): string {
  return repository.replace(/(:\/\/[^/:@\s]*:)[^@/\s]*@/, '$1***@');
}

/** One restic per call; `close()` stops every restic still running. */
export class Restic {
  private readonly children = new Set<ChildProcess>();
  private closed = false;

  constructor(
    readonly options: ResticOptions,
    private readonly log: Logger,
  ) {}

  /**
   * Runs `restic <args>`; resolves with the exit code (rejects only if restic cannot start).
   * With `stallMs`, a `backup --json` whose progress (files and bytes done) stands still that long
   * is interrupted: restic 0.14 can hang for good when writing to the repository fails (a full
   * disk), and one hung run would block every later one.
   */
  run(args: readonly string[], opts: { stallMs?: number } = {}): Promise<ResticResult> {
    const started = Date.now();
    if (this.closed) return Promise.resolve({ code: -1, stdout: '', stderr: 'not started: LabHub is stopping' });
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.binary, [...args], { env: resticEnv(this.options), stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
      this.children.add(child);
      let progress = { key: '', at: Date.now(), bytesDone: 0 };
      let stalled: ResticResult['stalled'];
      const watchdog = opts.stallMs
        ? setInterval(() => {
            if (stalled || Date.now() - progress.at < opts.stallMs!) return;
            stalled = { seconds: Math.round((Date.now() - progress.at) / 1000), bytesDone: progress.bytesDone };
            this.log.warn({ command: args[0], stalledSeconds: stalled.seconds }, 'restic made no progress; interrupting it');
            stop(child);
          }, Math.min(5000, Math.max(200, opts.stallMs / 5)))
        : null;
      let stdout = '';
      let partial = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        const lines = (partial + d).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (line.startsWith('{"message_type":"status"')) {
            const p = progressOf(line);
            if (p && p.key !== progress.key) progress = { key: p.key, at: Date.now(), bytesDone: p.bytesDone };
            continue;
          }
          if (stdout.length < MAX_STDOUT) stdout += `${line}\n`;
        }
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < MAX_STDERR) stderr += d;
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (watchdog) clearInterval(watchdog);
        this.children.delete(child);
        reject(err);
      });
      child.on('close', (code, signal) => {
        if (watchdog) clearInterval(watchdog);
        this.children.delete(child);
        if (partial && !partial.startsWith('{"message_type":"status"')) stdout += partial;
        const result: ResticResult = { code: code ?? 128, stdout, stderr: signal ? `${stderr}\nrestic was stopped by ${signal}` : stderr };
        if (stalled) result.stalled = stalled;
        this.log.debug({ command: args[0], code: result.code, ms: Date.now() - started }, 'restic finished');
        resolve(result);
      });
    });
  }

  /** Stops every running restic and waits for them to exit. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.children].map(stop));
  }
}

/**
 * Interrupts restic the way Ctrl-C does (SIGINT: restic 0.14 cancels its work and removes its lock;
 * SIGTERM would leave the lock), then SIGKILL after 10 s; resolves when it has exited.
 */
function stop(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}
