/**
 * The pre-warmed launcher's supervisor: starts `resources/launcher/labhub_launcher.py` with the
 * system Python that owns the single-user packages, knows when it is ready, restarts it when it
 * retires (max forks, memory, upgraded packages: at once) or crashes (with backoff), and forwards
 * requests to it. It never makes a spawn wait for it: while it is not ready, `unavailable()` says
 * why and the local spawner starts the server cold.
 *
 * The socket lives in `<dataDir>/launcher/` (root, 0700) with mode 0600; the launcher also checks
 * that each peer is uid 0 (SO_PEERCRED). It runs in a session of its own and exits with the hub
 * (PR_SET_PDEATHSIG plus a parent check); the servers it forked live on either way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, existsSync, promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.js';
import { launcherExitStatus, pingLauncher, requestSpawn, type LauncherPing, type LauncherSpawnRequest, type PendingChild } from './launcher-client.js';

export const READY_PREFIX = 'LABHUB-LAUNCHER-READY ';
/** Exit codes of a planned restart (see the launcher's docstring). */
const RETIRED = 0;
const PACKAGES_CHANGED = 75;
/** Room for the server's command line and environment in /proc (the launcher's show_as). */
const ARGV_ROOM = 4096;
const ENV_ROOM = 32_768;

export interface LauncherOptions {
  /** The system Python that owns jupyterhub and notebook (never a pyenv one). */
  python: string;
  /** Holds the socket; created 0700. */
  runDir: string;
  /** The launcher's own output (`<logDir>/launcher.log`). */
  logFile: string;
  /** JUPYTERHUB_SINGLEUSER_APP the servers run with ('' = JupyterHub's default). */
  app: string;
  maxForks: number;
  maxRssMb: number;
  logger: Logger;
  /** LANG/LC_ALL come from here (as for cold starts). */
  parentEnv?: NodeJS.ProcessEnv;
  /** Defaults to the script in resources/launcher/. */
  script?: string;
  readyTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** First restart delay after a crash; doubles up to 60 s. */
  backoffMs?: number;
  /** How often a ready launcher is pinged; two failed pings in a row and it is killed and restarted. */
  healthIntervalMs?: number;
}

export interface LauncherStatus {
  state: 'starting' | 'ready' | 'restarting' | 'closed';
  pid: number | null;
  restarts: number;
  lastExit: string | null;
}

/** resources/launcher/labhub_launcher.py, from the source tree (tests) or from dist/. */
export function defaultLauncherScript(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'resources', 'launcher', 'labhub_launcher.py');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'resources', 'launcher', 'labhub_launcher.py');
}

/** Root runs the script: it and its directory must be root's and writable by root only. */
async function checkRootOnly(script: string): Promise<void> {
  for (const path of [script, dirname(script)]) {
    const st = await fs.stat(path);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) throw new Error(`${path} must be owned by root and writable by root only`);
  }
}

export class PrewarmedLauncher {
  readonly socketPath: string;
  private child: ChildProcess | null = null;
  private ready = false;
  private closed = false;
  private restarts = 0;
  private crashes = 0;
  private startedAt = 0;
  private lastExit: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readyWaiters: Array<(ready: boolean) => void> = [];
  private disabled: string | null = null;
  private health: NodeJS.Timeout | null = null;
  private failedPings = 0;
  /** Why the last spawn() of the launcher failed (e.g. no such Python). */
  private spawnFailure: Error | null = null;
  private readonly requestTimeoutMs: number;

  constructor(private readonly o: LauncherOptions) {
    this.socketPath = join(o.runDir, 'launcher.sock');
    this.requestTimeoutMs = o.requestTimeoutMs ?? 10_000;
  }

  /** Never start: every spawn goes cold for `reason`. */
  disable(reason: string): void {
    this.disabled = reason;
  }

  /** Starts the launcher in the background; spawns go cold until it is ready. */
  start(): void {
    if (this.closed || this.child || this.disabled) return;
    this.launch().catch((err: Error) => {
      this.o.logger.warn({ err }, 'could not start the pre-warmed launcher; servers start cold');
      this.scheduleRestart(false);
    });
  }

  private async launch(): Promise<void> {
    await fs.mkdir(this.o.runDir, { recursive: true, mode: 0o700 });
    await fs.chmod(this.o.runDir, 0o700);
    await fs.mkdir(dirname(this.o.logFile), { recursive: true, mode: 0o700 });
    const log = await fs.open(this.o.logFile, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, 0o600);
    const parent = this.o.parentEnv ?? process.env;
    const env: Record<string, string> = { PATH: '/usr/bin:/bin', HOME: '/nonexistent', LABHUB_LAUNCHER_SPACE: 'x'.repeat(ENV_ROOM) };
    for (const name of ['LANG', 'LC_ALL']) if (parent[name] !== undefined) env[name] = parent[name] as string;
    if (this.o.app) env.JUPYTERHUB_SINGLEUSER_APP = this.o.app;
    const script = this.o.script ?? defaultLauncherScript();
    await checkRootOnly(script);
    // -P: nothing is imported from the script's directory (only root's system paths)
    const args = [
      '-P',
      script,
      '--socket', this.socketPath,
      '--max-forks', String(this.o.maxForks),
      '--max-rss-mb', String(this.o.maxRssMb),
      '--pad', ' '.repeat(ARGV_ROOM),
    ];
    let child: ChildProcess;
    this.spawnFailure = null;
    try {
      child = spawn(this.o.python, args, { cwd: '/', env, detached: true, stdio: ['ignore', 'pipe', log.fd] });
      // before anything awaits: a failed spawn() reports on the next tick
      child.once('error', (err) => this.spawnError(child, err));
    } finally {
      await log.close();
    }
    this.child = child;
    this.startedAt = Date.now();
    if (child.pid === undefined) {
      // spawn() failed already (e.g. no such Python); 'error' comes, 'exit' does not
      this.child = null;
      // set by the 'error' listener while the log was being closed (TypeScript cannot see that)
      const failure = this.spawnFailure as Error | null;
      this.lastExit = `could not be started${failure ? `: ${failure.message}` : ''}`;
      this.scheduleRestart(false);
      return;
    }
    const timeout = setTimeout(() => {
      if (this.child === child && !this.ready) {
        this.o.logger.warn({ pid: child.pid }, 'the pre-warmed launcher did not get ready in time; killing it');
        child.kill('SIGKILL');
      }
    }, this.o.readyTimeoutMs ?? 60_000);
    timeout.unref();
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.startsWith(READY_PREFIX) && this.child === child) {
          clearTimeout(timeout);
          this.ready = true;
          this.failedPings = 0;
          this.watchHealth(child);
          this.o.logger.info({ pid: child.pid, ms: Date.now() - this.startedAt }, 'pre-warmed launcher ready');
          for (const w of this.readyWaiters.splice(0)) w(true);
        }
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timeout);
      if (this.child !== child) return;
      this.child = null;
      this.ready = false;
      this.stopHealth();
      const planned = code === RETIRED || code === PACKAGES_CHANGED;
      this.lastExit = signal ? `killed by ${signal}` : code === PACKAGES_CHANGED ? 'packages changed on disk' : code === RETIRED ? 'retired' : `exited with code ${code}`;
      if (this.closed) return;
      const level = planned ? 'info' : 'warn';
      this.o.logger[level]({ pid: child.pid, code, signal, reason: this.lastExit }, 'pre-warmed launcher exited; restarting it');
      this.scheduleRestart(planned);
    });
  }

  /** Pings the ready launcher now and then: a launcher that stopped answering is killed and restarted. */
  private watchHealth(child: ChildProcess): void {
    this.stopHealth();
    this.health = setInterval(() => void this.checkHealth(child), this.o.healthIntervalMs ?? 15_000);
    this.health.unref();
  }

  private stopHealth(): void {
    if (this.health) clearInterval(this.health);
    this.health = null;
  }

  private async checkHealth(child: ChildProcess): Promise<void> {
    if (this.child !== child || !this.ready) return;
    try {
      await pingLauncher(this.socketPath, Math.min(3_000, this.requestTimeoutMs));
      this.failedPings = 0;
    } catch (err) {
      this.noAnswer(child, err as Error);
    }
  }

  /** A ping or a spawn got no answer; the second time in a row the launcher is killed (and restarted). */
  private noAnswer(child: ChildProcess, err: Error): void {
    if (this.child !== child) return;
    this.failedPings++;
    if (this.failedPings < 2) return;
    this.o.logger.warn({ pid: child.pid, err }, 'the pre-warmed launcher stopped answering; restarting it');
    this.ready = false;
    child.kill('SIGKILL');
  }

  private spawnError(child: ChildProcess, err: Error): void {
    this.o.logger.warn({ err }, 'pre-warmed launcher could not be started');
    if (child.pid === undefined) {
      this.spawnFailure = err;
      if (this.lastExit?.startsWith('could not be started')) this.lastExit = `could not be started: ${err.message}`;
    }
  }

  private scheduleRestart(planned: boolean): void {
    if (this.closed || this.timer) return;
    // a launcher that ran a minute is healthy again: its next crash starts the backoff afresh
    if (Date.now() - this.startedAt > 60_000) this.crashes = 0;
    const delay = planned ? 0 : Math.min(60_000, (this.o.backoffMs ?? 1000) * 2 ** this.crashes);
    if (!planned) this.crashes++;
    this.restarts++;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.start();
    }, delay);
    this.timer.unref();
  }

  /** Why a spawn cannot use the launcher right now, or null when it can. */
  unavailable(): string | null {
    if (this.disabled) return this.disabled;
    if (this.closed) return 'the launcher is shut down';
    if (this.ready && this.child) return null;
    if (this.child) return 'the launcher is still starting';
    return this.lastExit ? `the launcher is restarting (${this.lastExit})` : 'the launcher is not running';
  }

  status(): LauncherStatus {
    const state = this.closed ? 'closed' : this.ready ? 'ready' : this.child ? 'starting' : 'restarting';
    return { state, pid: this.child?.pid ?? null, restarts: this.restarts, lastExit: this.lastExit };
  }

  /** Resolves when the launcher is ready or after `ms` (for tests and benchmarks). */
  whenReady(ms: number): Promise<boolean> {
    if (this.ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.readyWaiters.push((ready) => {
        clearTimeout(timer);
        resolve(ready);
      });
    });
  }

  ping(): Promise<LauncherPing> {
    return pingLauncher(this.socketPath, this.requestTimeoutMs);
  }

  spawn(req: LauncherSpawnRequest): Promise<PendingChild> {
    const child = this.child;
    return requestSpawn(this.socketPath, req, this.requestTimeoutMs).catch((err: Error) => {
      if (child && /no answer from the launcher/.test(err.message)) this.noAnswer(child, err);
      throw err;
    });
  }

  /** Exit status of a server this launcher process forked and reaped; null when unknown. */
  async exitStatus(pid: number, startTime: number): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null } | null> {
    if (!this.ready) return null;
    return launcherExitStatus(this.socketPath, pid, startTime, 2_000).catch(() => null);
  }

  /** The Python the launcher runs: a spawn's entry point must be a script of this one. */
  get python(): string {
    return this.o.python;
  }

  /** The launcher's pid (tests kill it to check the fallback). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Stops the launcher (SIGTERM, then SIGKILL after 3 s); servers it started keep running. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopHealth();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const child = this.child;
    this.ready = false;
    for (const w of this.readyWaiters.splice(0)) w(false);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(force);
    this.child = null;
  }
}

