/**
 * The local system-user spawner: each single-user server is a process running as the student's
 * own Linux user (uid, gid and supplementary groups), in the home directory, with an environment
 * built from scratch, in a session of its own so hub restarts and signals to the hub's process
 * group leave it alone, logging to `<logDir>/users/<name>.log`.
 *
 * Like JupyterHub's LocalProcessSpawner (https://jupyterhub.readthedocs.io/en/stable/reference/api/spawner.html#localprocessspawner),
 * but the user switch is done by util-linux `setpriv` rather than by Node's `spawn({uid, gid})`:
 * libuv calls setgroups(0) there, which would drop the supplementary groups. setpriv execs the
 * server, so the pid we record is the server's own.
 *
 * The server inherits the hub's umask (the hub runs with 022, so students' new files are 0644 and
 * directories 0755 unless their own shell config says otherwise; homes themselves keep their mode).
 *
 * With the pre-warmed launcher (launcher.ts) the same server is forked from a process that has
 * already imported it, with the same user switch, environment, log, cgroups and umask; whenever the
 * launcher cannot take a spawn, the spawn starts cold as above and its progress says why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import { isValidUserName, type Account } from '../auth/accounts.js';
import { HubError } from '../errors.js';
import { formatLimit } from '../quota/cgroup-values.js';
import type { ServerCgroup } from '../quota/cgroups.js';
import type { Logger } from '../log.js';
import { PortPicker } from './free-port.js';
import { liveness, readProcStat, type ProcessIdentity } from './proc.js';
import { buildServerEnv, findExecutable } from './server-env.js';
import type { PrewarmedLauncher } from './launcher.js';
import { startWarm, type LaunchPlan } from './launcher-start.js';
import { kernelOomNotice, ServerLimiter, type ServerLimitsOptions } from './server-limits.js';
import { stopProcessTree } from './stop-process.js';
import type { PollResult, Spawner, StartOptions, StartedServer } from './types.js';
import { openUserLog, tailLines, userLogPath } from './user-log.js';

export interface LocalSpawnerOptions extends ServerLimitsOptions {
  /** Per-user logs go to `<logDir>/users/<name>.log`. */
  logDir: string;
  cmd: string[];
  args: string[];
  environment: Record<string, string>;
  /** PATH given to servers (never the hub's). */
  path: string;
  stopGraceSeconds: number;
  logger: Logger;
  /** Seconds between SIGTERM and SIGKILL (JupyterHub: 5). */
  termGraceSeconds?: number;
  /** Where LANG/LC_ALL are read from; defaults to process.env. */
  parentEnv?: NodeJS.ProcessEnv;
  /** The setpriv binary; defaults to the first of /usr/bin/setpriv, /bin/setpriv. */
  setpriv?: string;
  /** The pre-warmed launcher; absent = every server starts cold. */
  launcher?: PrewarmedLauncher | null;
}

/** What `start` records and `poll`/`stop` need, also after a hub restart. */
export interface LocalServerState {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells the server apart from a later process with the same pid. */
  startTime: number;
  port: number;
  logFile: string;
  /** The server's cgroup when memory/CPU limits are in force (see hub/quota/cgroups.ts). */
  cgroup?: ServerCgroup;
  /** How it was started: forked by the pre-warmed launcher, or exec'd (cold). */
  via?: 'launcher' | 'cold';
}

interface ExitInfo {
  startTime: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

const LOG_LINES_IN_REASON = 10;
/** Starts the line written to the user's log before each launch. */
const LOG_HEADER_PREFIX = '[labhub] ';
/** How long poll waits for Node to reap a child it saw as a zombie, to report its exit status. */
const REAP_WAIT_MS = 2_000;
const MAX_REMEMBERED_EXITS = 1_000;

/** Reads a state object recorded by `start`; null when it is not one. */
export function parseLocalState(state: Record<string, unknown>): LocalServerState | null {
  const { pid, startTime, port, logFile } = state;
  const int = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
  if (!int(pid) || pid <= 1 || !int(startTime) || startTime < 0) return null;
  return { pid, startTime, port: int(port) ? port : 0, logFile: typeof logFile === 'string' ? logFile : '' };
}

function spawnFailed(message: string, cause?: unknown): HubError {
  return new HubError('HUB_ERR_SPAWN_FAILED', message, cause ? { cause } : undefined);
}

function checkAccount(account: Account): void {
  if (!isValidUserName(account.name)) throw spawnFailed(`Invalid user name ${JSON.stringify(account.name)}`);
  const id = (v: number) => Number.isSafeInteger(v) && v >= 1;
  if (!id(account.uid) || !id(account.gid)) {
    throw spawnFailed(`Refusing to start a server for ${account.name}: uid ${account.uid} / gid ${account.gid} is root or invalid`);
  }
}

async function checkHome(account: Account): Promise<void> {
  const stat = await fs.stat(account.home).catch(() => null);
  if (!account.home || !stat?.isDirectory()) {
    throw spawnFailed(`Home directory ${account.home || '(none)'} of user ${account.name} does not exist`);
  }
}

async function findSetpriv(explicit: string | undefined): Promise<string> {
  for (const file of explicit ? [explicit] : ['/usr/bin/setpriv', '/bin/setpriv']) {
    if (await fs.access(file, fs.constants.X_OK).then(() => true, () => false)) return file;
  }
  throw spawnFailed('setpriv (util-linux) is not installed; the local spawner needs it to switch to the user');
}

function describeExit(pid: number, exit: ExitInfo | undefined): string {
  if (!exit) return `Server process ${pid} is no longer running (exit status unknown: it was not started by this hub process)`;
  if (exit.signal) return `Server process ${pid} was killed by signal ${exit.signal}`;
  return `Server process ${pid} exited with code ${exit.exitCode}`;
}

/** The lines after the last start header: earlier runs' output does not explain this one. */
function currentRun(lines: string[]): string[] {
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]?.startsWith(LOG_HEADER_PREFIX)) return lines.slice(i + 1);
  return lines;
}

function withLog(reason: string, tail: string[]): string {
  return tail.length ? `${reason}. Last lines of the log:\n${tail.join('\n')}` : `${reason} (nothing in the log)`;
}

export class LocalSpawner implements Spawner {
  readonly kind = 'local';
  private readonly children = new Map<number, ChildProcess>();
  private readonly exits = new Map<number, ExitInfo>();
  /** Start times of live children, so an exit record can be matched to the state it belongs to. */
  private readonly startTimes = new Map<number, number>();
  private readonly stopping = new Map<number, Promise<void>>();
  private readonly ports = new PortPicker();
  private closed = false;
  private readonly limiter: ServerLimiter;

  constructor(private readonly opts: LocalSpawnerOptions) {
    this.limiter = new ServerLimiter(opts, opts.logger);
  }

  async start({ account, env: hubEnv, prefix, onProgress }: StartOptions): Promise<StartedServer> {
    if (this.closed) throw spawnFailed('The spawner is closed');
    checkAccount(account);
    if (process.getuid?.() !== 0) throw spawnFailed('The hub must run as root to start servers as other users');
    await checkHome(account);
    const setpriv = await findSetpriv(this.opts.setpriv);
    const port = await this.ports.pick();
    const env = buildServerEnv({
      account,
      hubEnv,
      serviceUrl: `http://127.0.0.1:${port}${prefix}`,
      path: this.opts.path,
      environment: this.opts.environment,
      parentEnv: this.opts.parentEnv ?? process.env,
    });
    const [command, ...cmdArgs] = this.opts.cmd;
    if (!command) throw spawnFailed('No server command configured (spawner.cmd is empty)');
    const executable = await findExecutable(command, env.PATH ?? this.opts.path, account);
    const argv = [executable, ...cmdArgs, ...this.opts.args];

    const log = this.opts.logger.child({ user: account.name });
    const header = `${LOG_HEADER_PREFIX}${new Date().toISOString()} starting server for ${account.name} on 127.0.0.1:${port}: ${argv.join(' ')}`;
    const { file, path: logFile } = await openUserLog(this.opts.logDir, account.name, header);
    let launch;
    const wrapped = [setpriv, '--reuid', String(account.uid), '--regid', String(account.gid), '--init-groups', '--', ...argv];
    try {
      launch = await this.limiter.prepare(account, wrapped);
    } catch (err) {
      await file.close();
      throw spawnFailed(`Could not set up the memory and CPU limits of the server: ${(err as Error).message}`, err);
    }
    const start: LaunchPlan = { account, env, argv, logFile, launch, command: wrapped, onProgress, log };
    if (this.opts.launcher) {
      await file.close();
      const warm = await startWarm(this.opts.launcher, start);
      if ('pid' in warm) {
        log.info({ pid: warm.pid, port, logFile, via: 'launcher' }, 'server process started');
        onProgress({ progress: 40, message: `Server process started (pid ${warm.pid}, pre-warmed); waiting for it to answer` });
        const cgroup = await this.limiter.started(warm.pid, launch);
        const state: LocalServerState = { pid: warm.pid, startTime: warm.startTime, port, logFile, ...(cgroup ? { cgroup } : {}), via: 'launcher' };
        return { target: `http://127.0.0.1:${port}`, state: { ...state } };
      }
      log.info({ reason: warm.coldBecause }, 'starting the server cold');
      onProgress({ progress: 20, message: `Starting your server process (cold start: ${warm.coldBecause})` });
      return this.startCold(start, port, null);
    }
    onProgress({ progress: 20, message: 'Starting your server process' });
    return this.startCold(start, port, file);
  }

  /** The classic start: spawn setpriv (wrapped for limits), which execs the server as the user. */
  private async startCold(w: LaunchPlan, port: number, openLog: fs.FileHandle | null): Promise<StartedServer> {
    const { account, env, logFile, launch, log } = w;
    const file = openLog ?? (await fs.open(logFile, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW));
    let child: ChildProcess;
    try {
      const [launcher, ...launcherArgs] = launch.argv as [string, ...string[]];
      child = spawn(launcher, launcherArgs, { cwd: account.home, env, detached: true, stdio: ['ignore', file.fd, file.fd] });
      const launched = new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      if (child.pid !== undefined) this.watch(child, child.pid, log);
      await launched;
    } catch (err) {
      throw spawnFailed(`Could not start the server process: ${(err as Error).message}`, err);
    } finally {
      await file.close();
    }
    const pid = child.pid as number;
    child.unref();

    const stat = await readProcStat(pid);
    if (!stat || stat.state === 'Z' || child.exitCode !== null || child.signalCode !== null) {
      // it ended before we could record it: fail the start with the reason poll would give
      await this.reaped(child);
      if (launch.cgroup) await this.limiter.cleanup({ pid, cgroup: launch.cgroup });
      const tail = currentRun(await tailLines(logFile, LOG_LINES_IN_REASON));
      throw spawnFailed(withLog(describeExit(pid, this.exits.get(pid)), tail));
    }
    this.startTimes.set(pid, stat.startTime);
    this.children.set(pid, child);
    log.info({ pid, port, logFile }, 'server process started');
    w.onProgress({ progress: 40, message: `Server process started (pid ${pid}); waiting for it to answer` });
    const cgroup = await this.limiter.started(pid, launch);
    const state: LocalServerState = { pid, startTime: stat.startTime, port, logFile, ...(cgroup ? { cgroup } : {}), via: 'cold' };
    return { target: `http://127.0.0.1:${port}`, state: { ...state } };
  }

  /** Records how a child of this process ended; Node reaps it (waitpid) before emitting 'exit'. */
  private watch(child: ChildProcess, pid: number, log: Logger): void {
    child.once('exit', (exitCode, signal) => {
      // -1: it ended before start() recorded it, and start() failed with this exit
      const startTime = this.startTimes.get(pid) ?? -1;
      this.startTimes.delete(pid);
      this.children.delete(pid);
      this.exits.set(pid, { startTime, exitCode, signal });
      if (this.exits.size > MAX_REMEMBERED_EXITS) this.exits.delete(this.exits.keys().next().value as number);
      log.info({ pid, exitCode, signal }, 'server process exited');
    });
  }

  /** Resolves once Node has reaped the child (its exit is recorded), or after REAP_WAIT_MS. */
  private reaped(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, REAP_WAIT_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async poll(user: string, state: Record<string, unknown>): Promise<PollResult> {
    const id = parseLocalState(state);
    if (!id) return { running: false, exitCode: null, signal: null, reason: 'No server process is recorded' };
    let status = await liveness(id);
    const oom = await this.limiter.newOomKills(state);
    if (status === 'running') return oom.kills && oom.cgroup ? { running: true, notice: kernelOomNotice(oom.cgroup.limits) } : { running: true };
    const child = this.children.get(id.pid);
    if (child && status === 'zombie') {
      await this.reaped(child);
      status = await liveness(id);
    }
    const exit = this.exits.get(id.pid);
    let known = exit && exit.startTime === id.startTime ? exit : undefined;
    if (!known && state.via === 'launcher' && this.opts.launcher) known = (await this.launcherExit(id)) ?? undefined;
    let reason = status === 'reused' && !known
      ? `Server process ${id.pid} is no longer running (its pid now belongs to another process)`
      : describeExit(id.pid, known);
    const outOfMemory = oom.kills > 0 && !!oom.cgroup;
    if (outOfMemory) reason = `it ran out of memory (limit ${formatLimit(oom.cgroup!.limits.memory)}) and was stopped by the memory limit; ${reason[0]!.toLowerCase()}${reason.slice(1)}`;
    await this.limiter.cleanup(state);
    const tail = currentRun(await this.logTail(user, LOG_LINES_IN_REASON).catch(() => []));
    const result = { running: false as const, exitCode: known?.exitCode ?? null, signal: known?.signal ?? null, reason: withLog(reason, tail) };
    return outOfMemory ? { ...result, outOfMemory } : result;
  }

  /** The exit of a server the launcher forked: it reaps its children within a quarter second. */
  private async launcherExit(id: ProcessIdentity): Promise<ExitInfo | null> {
    for (let i = 0; i < 20 && (await liveness(id)) === 'zombie'; i++) await new Promise((r) => setTimeout(r, 100));
    const exit = await this.opts.launcher!.exitStatus(id.pid, id.startTime);
    return exit ? { startTime: id.startTime, exitCode: exit.exitCode, signal: exit.signal } : null;
  }

  async stop(user: string, state: Record<string, unknown>): Promise<void> {
    const id: ProcessIdentity | null = parseLocalState(state);
    if (!id) return;
    const running = this.stopping.get(id.pid);
    if (running) return running;
    const log = this.opts.logger.child({ user });
    const grace = this.opts.stopGraceSeconds * 1000;
    const term = (this.opts.termGraceSeconds ?? 5) * 1000;
    const done = stopProcessTree(id, { interruptGraceMs: grace, terminateGraceMs: term, killGraceMs: 5_000 }, log)
      .then(() => this.limiter.cleanup(state))
      .catch((err: Error) => {
        throw new HubError('HUB_ERR_INTERNAL', `Could not stop the server of ${user}: ${err.message}`, { cause: err });
      })
      .finally(() => this.stopping.delete(id.pid));
    this.stopping.set(id.pid, done);
    return done;
  }

  async logTail(user: string, lines = 20): Promise<string[]> {
    if (!isValidUserName(user)) throw new HubError('HUB_ERR_INVALID_NAME');
    return tailLines(userLogPath(this.opts.logDir, user), lines);
  }

  /**
   * Stops the pre-warmed launcher and forgets children and exit records; the servers keep running (they are detached and unref'd,
   * and Node still reaps any that exit). A stop already under way finishes on its own.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.opts.launcher?.close();
    this.children.clear();
    this.startTimes.clear();
    this.exits.clear();
  }
}
