/**
 * The Docker system-user spawner: one container per student (`labhub-<user>`), from a locally
 * built image, running as the student's uid:gid with their supplementary groups and only their
 * own home bind-mounted at the same path, so files belong to the right person on the host.
 * JupyterHub's DockerSpawner/SystemUserSpawner idea (https://jupyterhub-dockerspawner.readthedocs.io/),
 * over dockerode. What the container is created with is in docker/container-spec.ts.
 *
 * Images are never pulled: a missing image is an error naming `labhub image build`.
 * The container's output is copied into `<logDir>/users/<name>.log` as it comes (followed again
 * from the moment of re-adoption after a hub restart), and Docker keeps it too (`logTail` reads it)
 * until the container is removed.
 */
import { promises as fs } from 'node:fs';
import Docker from 'dockerode';
import { isValidUserName, type Account } from '../auth/accounts.js';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { formatLimit, type ServerLimits } from '../quota/cgroup-values.js';
import { containerName, containerSpec, LABEL_HUB, serviceUrl, type DockerVolume } from './docker/container-spec.js';
import { writeIdentityFiles } from './docker/identity-files.js';
import { daemonDown, dockerMessage, imageMissing, isDaemonUnreachable, isPortInUse, spawnError, statusOf } from './docker/docker-errors.js';
import { LogFollower } from './docker/log-follower.js';
import { demuxLogs } from './docker/logs.js';
import { oomFileOf, readOomKills } from './docker/oom.js';
import { PortPicker } from './free-port.js';
import { buildServerEnv } from './server-env.js';
import { kernelOomNotice } from './server-limits.js';
import type { PollResult, Spawner, StartOptions, StartedServer } from './types.js';
import { openUserLog, tailLines, userLogPath } from './user-log.js';

export interface DockerSpawnerOptions {
  /** The Docker socket (default /var/run/docker.sock). */
  socketPath: string;
  image: string;
  /** `host` (default: the server listens on 127.0.0.1:<port> itself), `bridge`, or a network name. */
  network: string;
  volumes: readonly DockerVolume[];
  /** `spawner.environment` and `spawner.docker.environment`, applied last. */
  environment: Record<string, string>;
  path: string;
  cmd: string[];
  args: string[];
  removeOnStop: boolean;
  allowRoot: boolean;
  pidsLimit: number;
  stopGraceSeconds: number;
  logDir: string;
  /** Where the per-user passwd/group files for inside the containers are written. */
  stateDir: string;
  /** Labels this hub's containers (see container-spec.ts LABEL_HUB). */
  hubId: string;
  logger: Logger;
  /** Memory and CPU limits for a user (the quota policy); absent = none. */
  limitsFor?: (account: Account) => Promise<ServerLimits>;
  /** Parent cgroup of the containers (config `cgroupParent`): `auto`, empty = Docker's default, or a path/slice. */
  cgroupParent?: string;
  /** Seconds a Docker API call may take before the daemon counts as not answering. */
  apiTimeoutSeconds?: number;
}

/** What `start` records and `poll`/`stop` need, also after a hub restart. */
export interface DockerServerState {
  containerId: string;
  name: string;
  port: number;
  image: string;
  limits: ServerLimits;
  /** memory.oom_control (cgroup v1) or memory.events (v2) of the container, when found. */
  oomFile?: string;
  oomBase?: number;
}

const LOG_LINES_IN_REASON = 10;
/** How long a container seen running counts as running without asking Docker again. */
const RECHECK_MS = 250;

export function parseDockerState(state: Record<string, unknown>): DockerServerState | null {
  const { containerId, name, port, image, limits, oomFile, oomBase } = state;
  if (typeof containerId !== 'string' || !/^[0-9a-f]{12,64}$/.test(containerId) || typeof name !== 'string') return null;
  const l = (limits ?? {}) as Partial<ServerLimits>;
  return {
    containerId,
    name,
    port: typeof port === 'number' ? port : 0,
    image: typeof image === 'string' ? image : '',
    limits: { memory: Number(l.memory) || 0, cpus: Number(l.cpus) || 0 },
    ...(typeof oomFile === 'string' ? { oomFile, oomBase: Number(oomBase) || 0 } : {}),
  };
}

function checkAccount(account: Account): void {
  if (!isValidUserName(account.name)) throw new HubError('HUB_ERR_SPAWN_FAILED', `Invalid user name ${JSON.stringify(account.name)}`);
  const id = (v: number) => Number.isSafeInteger(v) && v >= 1;
  if (!id(account.uid) || !id(account.gid)) {
    throw new HubError('HUB_ERR_SPAWN_FAILED', `Refusing to start a server for ${account.name}: uid ${account.uid} / gid ${account.gid} is root or invalid`);
  }
}

function withLog(reason: string, tail: string[]): string {
  return tail.length ? `${reason}. Last lines of the log:\n${tail.join('\n')}` : `${reason} (nothing in the log)`;
}

export class DockerSpawner implements Spawner {
  readonly kind = 'docker';
  readonly docker: Docker;
  private readonly ports = new PortPicker();
  private readonly stopping = new Map<string, Promise<void>>();
  /** OOM kills already reported per container. */
  private readonly seenOom = new Map<string, number>();
  /** When each container was last seen running: the hub polls a starting server every few ms. */
  private readonly seenRunning = new Map<string, number>();
  /** Copies running containers' output into the users' log files. */
  private readonly logs: LogFollower;
  private closed = false;
  private cgroupParent: Promise<string> | null = null;

  constructor(private readonly opts: DockerSpawnerOptions) {
    const timeout = (opts.apiTimeoutSeconds ?? Math.max(30, opts.stopGraceSeconds + 20)) * 1000;
    this.docker = new Docker({ socketPath: opts.socketPath, timeout });
    this.logs = new LogFollower(this.docker, opts.logDir);
  }

  private where(): string {
    return this.opts.socketPath;
  }

  /** Resolves when the daemon answers; throws HUB_ERR_DOCKER_UNAVAILABLE when it does not. */
  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw daemonDown(this.where(), err);
    }
  }

  /** Throws HUB_ERR_DOCKER_IMAGE_MISSING (or _UNAVAILABLE) unless the configured image is here. */
  async checkImage(): Promise<void> {
    try {
      await this.docker.getImage(this.opts.image).inspect();
    } catch (err) {
      if (statusOf(err) === 404) throw imageMissing(this.opts.image);
      throw spawnError(`Could not check the server image ${this.opts.image}`, err, this.where());
    }
  }

  /**
   * `auto`: `/` under Docker's cgroupfs driver, so each container weighs as much as a local server
   * against the rest of the machine (in `/docker` all of them together weigh as one process:
   * bench/RESULTS.md "Docker spawner"); the systemd driver already gives each container a scope.
   */
  private resolveCgroupParent(): Promise<string> {
    const wanted = this.opts.cgroupParent ?? '';
    if (wanted !== 'auto') return Promise.resolve(wanted);
    this.cgroupParent ??= this.docker.info().then(
      (info: { CgroupDriver?: string }) => (info.CgroupDriver === 'cgroupfs' ? '/' : ''),
      (err: unknown) => {
        this.cgroupParent = null;
        throw spawnError('Could not ask Docker about its set-up', err, this.where());
      },
    );
    return this.cgroupParent;
  }

  async start({ account, env: hubEnv, prefix, onProgress }: StartOptions): Promise<StartedServer> {
    if (this.closed) throw new HubError('HUB_ERR_SPAWN_FAILED', 'The spawner is closed');
    checkAccount(account);
    const home = await fs.stat(account.home).catch(() => null);
    if (!account.home || !home?.isDirectory()) {
      throw new HubError('HUB_ERR_SPAWN_FAILED', `Home directory ${account.home || '(none)'} of user ${account.name} does not exist`);
    }
    const o = this.opts;
    const log = o.logger.child({ user: account.name });
    const limits = (await o.limitsFor?.(account)) ?? { memory: 0, cpus: 0 };
    const port = await this.ports.pick();
    const env = buildServerEnv({
      account,
      hubEnv,
      serviceUrl: serviceUrl(o.network, port, prefix),
      path: o.path,
      environment: o.environment,
      // the image has its own locale (LANG=C.UTF-8); the hub's may not exist in it
      parentEnv: {},
    });
    const argv = [...o.cmd, ...o.args];
    if (!argv.length) throw new HubError('HUB_ERR_SPAWN_FAILED', 'No server command configured (spawner.cmd is empty)');

    onProgress({ progress: 20, message: `Checking the server image ${o.image}` });
    await this.checkImage();
    const cgroupParent = await this.resolveCgroupParent();
    const name = containerName(account.name);
    await this.removeLeftover(name, log);
    const identityFiles = await writeIdentityFiles(this.opts.stateDir, account);

    onProgress({ progress: 25, message: 'Creating your container' });
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(
        containerSpec({
          account, image: o.image, network: o.network, port, argv, env, volumes: o.volumes, limits,
          pidsLimit: o.pidsLimit, stopGraceSeconds: o.stopGraceSeconds, allowRoot: o.allowRoot, hubId: o.hubId, identityFiles, cgroupParent,
        }),
      );
    } catch (err) {
      if (statusOf(err) === 404) throw imageMissing(o.image);
      throw spawnError('Could not create your container', err, this.where());
    }

    onProgress({ progress: 30, message: 'Starting your container' });
    const header = `[labhub] ${new Date().toISOString()} starting container ${name} (${container.id.slice(0, 12)}, image ${o.image}) for ${account.name} on 127.0.0.1:${port}: ${argv.join(' ')}`;
    await this.appendUserLog(account.name, header, []);
    try {
      await container.start();
    } catch (err) {
      // a failed start leaves the created container behind
      await container.remove({ force: true }).catch(() => undefined);
      if (isPortInUse(err)) throw new HubError('HUB_ERR_SPAWN_FAILED', `Port 127.0.0.1:${port} is already in use on the LabHub server, so your container could not start. Try again.`, { cause: err });
      throw spawnError('Could not start your container', err, this.where());
    }
    await this.logs.follow(account.name, container.id, name, 0).catch((err: Error) => log.warn({ err }, 'cannot follow the container output'));
    const info = await container.inspect().catch(() => null);
    const pid = info?.State?.Pid ?? 0;
    const oomFile = pid > 0 ? await oomFileOf(pid) : null;
    const oomBase = oomFile ? ((await readOomKills(oomFile)) ?? 0) : 0;
    if (oomFile) this.seenOom.set(container.id, oomBase);
    log.info({ container: container.id.slice(0, 12), port, image: o.image, limits }, 'container started');
    onProgress({ progress: 40, message: `Container ${name} started; waiting for your server to answer` });
    const state: DockerServerState = { containerId: container.id, name, port, image: o.image, limits, ...(oomFile ? { oomFile, oomBase } : {}) };
    return { target: `http://127.0.0.1:${port}`, state: { ...state } };
  }

  /** A container of the same name from before (a crash, a lost state, removeOnStop off) is replaced. */
  private async removeLeftover(name: string, log: Logger): Promise<void> {
    try {
      const old = await this.docker.getContainer(name).inspect();
      log.info({ container: old.Id.slice(0, 12), running: old.State.Running }, 'removing an earlier container of this user');
      await this.docker.getContainer(old.Id).remove({ force: true });
    } catch (err) {
      if (statusOf(err) === 404) return;
      throw spawnError('Could not remove your earlier container', err, this.where());
    }
  }

  async poll(user: string, state: Record<string, unknown>): Promise<PollResult> {
    const s = parseDockerState(state);
    if (!s) return { running: false, exitCode: null, signal: null, reason: 'No container is recorded' };
    // a spawn waiting for its server polls every 5-50 ms; Docker is asked at most every RECHECK_MS
    const seen = this.seenRunning.get(s.containerId);
    if (seen !== undefined && Date.now() - seen < RECHECK_MS) return { running: true };
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(s.containerId).inspect();
    } catch (err) {
      if (statusOf(err) === 404) return { running: false, exitCode: null, signal: null, reason: withLog(`Container ${s.name} no longer exists`, await this.fileTail(user)) };
      // not an answer about the container: the caller keeps its record as it is
      if (isDaemonUnreachable(err)) throw daemonDown(this.where(), err);
      throw new HubError('HUB_ERR_INTERNAL', `Could not check container ${s.name}: ${dockerMessage(err)}`, { cause: err });
    }
    if (info.State.Running || info.State.Restarting) {
      this.seenRunning.set(s.containerId, Date.now());
      if (!this.logs.has(s.containerId) && !this.closed) {
        // re-adopted after a hub restart: its output goes to the user's log again from now on
        const since = Math.floor(Date.now() / 1000);
        await this.appendUserLog(user, `[labhub] ${new Date().toISOString()} following container ${s.name} again after a hub or Docker restart (earlier output: docker logs ${s.name})`, []).catch(() => undefined);
        await this.logs.follow(user, s.containerId, s.name, since).catch(() => undefined);
      }
      const kills = await this.newOomKills(s);
      return kills > 0 ? { running: true, notice: kernelOomNotice(s.limits) } : { running: true };
    }
    this.seenRunning.delete(s.containerId);
    const code = info.State.ExitCode;
    // OOMKilled stays set once anything in the container was killed; 137 = the server itself (SIGKILL, via tini)
    const outOfMemory = info.State.OOMKilled && code === 137;
    let reason = `Container ${s.name} exited with code ${code}` + (info.State.Error ? ` (${info.State.Error})` : '');
    if (outOfMemory) reason = `it ran out of memory (limit ${formatLimit(s.limits.memory)}) and was stopped by the memory limit; ${reason[0]!.toLowerCase()}${reason.slice(1)}`;
    const tail = await this.containerLogs(s.containerId, LOG_LINES_IN_REASON).catch(() => []);
    await this.finish(user, s).catch((err: Error) => this.opts.logger.warn({ err, user }, 'could not clean up the exited container'));
    const result = { running: false as const, exitCode: code, signal: code > 128 ? signalName(code - 128) : null, reason: withLog(reason, tail) };
    return outOfMemory ? { ...result, outOfMemory: true } : result;
  }

  private async newOomKills(s: DockerServerState): Promise<number> {
    if (!s.oomFile) return 0;
    const now = await readOomKills(s.oomFile);
    if (now === null) return 0;
    const before = this.seenOom.get(s.containerId) ?? s.oomBase ?? 0;
    this.seenOom.set(s.containerId, now);
    return Math.max(0, now - before);
  }

  /** After the server ended: its output into the user's log file, then the container removed (per policy). */
  private async finish(user: string, s: DockerServerState): Promise<void> {
    this.seenOom.delete(s.containerId);
    this.seenRunning.delete(s.containerId);
    if (this.logs.has(s.containerId)) {
      // the stream ends with the container; its last lines are then in the file
      await this.logs.finish(s.containerId);
    } else {
      // it ended while no hub followed it: copy what Docker kept
      const lines = await this.containerLogs(s.containerId, 'all').catch(() => []);
      if (lines.length) await this.appendUserLog(user, `[labhub] ${new Date().toISOString()} output of container ${s.name} (${s.containerId.slice(0, 12)}):`, lines);
    }
    if (!this.opts.removeOnStop) return;
    await this.docker.getContainer(s.containerId).remove({ force: true }).catch((err) => {
      if (statusOf(err) !== 404) throw err;
    });
  }

  async stop(user: string, state: Record<string, unknown>): Promise<void> {
    const s = parseDockerState(state);
    if (!s) return;
    const running = this.stopping.get(s.containerId);
    if (running) return running;
    const done = this.runStop(user, s).finally(() => this.stopping.delete(s.containerId));
    this.stopping.set(s.containerId, done);
    return done;
  }

  private async runStop(user: string, s: DockerServerState): Promise<void> {
    const container = this.docker.getContainer(s.containerId);
    try {
      // SIGINT (the container's StopSignal), SIGKILL after the grace period; 304 = already stopped
      await container.stop({ t: Math.ceil(this.opts.stopGraceSeconds) });
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) return;
      if (status !== 304) {
        if (isDaemonUnreachable(err)) throw daemonDown(this.where(), err);
        throw new HubError('HUB_ERR_INTERNAL', `Could not stop the container of ${user}: ${dockerMessage(err)}`, { cause: err });
      }
    }
    this.opts.logger.child({ user }).info({ container: s.containerId.slice(0, 12) }, 'container stopped');
    await this.finish(user, s);
  }

  /** The last lines the container wrote (stdout and stderr); `'all'` for everything. */
  private async containerLogs(id: string, lines: number | 'all'): Promise<string[]> {
    const buf = await this.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false, ...(lines === 'all' ? {} : { tail: lines }) });
    const text = demuxLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
    const out = text.split('\n');
    if (out[out.length - 1] === '') out.pop();
    return out;
  }

  private async fileTail(user: string): Promise<string[]> {
    return tailLines(userLogPath(this.opts.logDir, user), LOG_LINES_IN_REASON).catch(() => []);
  }

  private async appendUserLog(user: string, header: string, lines: string[]): Promise<void> {
    const { file } = await openUserLog(this.opts.logDir, user, header);
    try {
      if (lines.length) await file.write(`${lines.join('\n')}\n`);
    } finally {
      await file.close();
    }
  }

  /** The running (or last) container's output; the user's log file when there is no container. */
  async logTail(user: string, lines = 20): Promise<string[]> {
    if (!isValidUserName(user)) throw new HubError('HUB_ERR_INVALID_NAME');
    try {
      return await this.containerLogs(containerName(user), lines);
    } catch {
      return tailLines(userLogPath(this.opts.logDir, user), lines);
    }
  }

  /**
   * At hub start: removes this hub's containers that no recorded server owns (a duplicate can
   * never run beside the re-adopted one); exited ones only when `removeOnStop`.
   */
  async sweep(keep: ReadonlySet<string>): Promise<string[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL_HUB}=${this.opts.hubId}`] } });
    const removed: string[] = [];
    for (const c of list) {
      if (keep.has(c.Id)) continue;
      if (c.State !== 'running' && !this.opts.removeOnStop) continue;
      await this.docker.getContainer(c.Id).remove({ force: true }).catch((err) => {
        if (statusOf(err) !== 404) throw err;
      });
      removed.push(c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12));
    }
    return removed;
  }

  /** Forgets in-memory bookkeeping; containers keep running. */
  async close(): Promise<void> {
    this.closed = true;
    this.seenOom.clear();
    this.logs.close();
  }
}

function signalName(n: number): string | null {
  const names: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };
  return names[n] ?? null;
}
