/**
 * ServerManager: the life of each student's server. A spawn waits its turn in the class-start
 * queue (spawn-queue.ts), then creates the server's token and OAuth client, asks the spawner for a
 * process, waits until it answers HTTP, adds the proxy route, and undoes all of it on stop or
 * failure. It notices servers that died behind its back (periodic poll and on demand) and, at
 * start, re-adopts what is still running (reconcile).
 */
import { lookupAccount, type Account } from '../auth/accounts.js';
import type { Config } from '../config.js';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ProxyClient } from '../proxy/types.js';
import type { Spawner } from '../spawner/types.js';
import type { ServerRecord } from '../store/state.js';
import type { Store } from '../store/store.js';
import type { TokenStore } from '../tokens/token-store.js';
import { forgetServerCredentials, issueServerCredentials, serverHubEnv, userPrefix } from './credentials.js';
import { ProgressLog } from './progress.js';
import { probeHttp, WakeableSleep } from './readiness.js';
import { reconcileServers } from './reconcile.js';
import { queueMessage, SpawnQueue, type QueuePosition } from './spawn-queue.js';

export { clientIdFor, userPrefix } from './credentials.js';

/** Failed spawns kept in the state for the admin. */
export const SPAWN_FAILURES_KEPT = 100;

export interface ServerManagerOptions {
  config: Readonly<Config>;
  store: Store;
  tokens: TokenStore;
  spawner: Spawner;
  proxy: ProxyClient;
  log: Logger;
  /** Hub API URL given to servers; known only once the hub listens. */
  hubApiUrl: () => string;
  /** Hub URL for the proxy's default route. */
  hubTarget: () => string;
  lookup?: (name: string) => Promise<Account | null>;
  /** How often running servers are checked for death (ms). */
  watchIntervalMs?: number;
  /** The disk quota's say on a spawn (hub/quota/service.ts): a refusal message, or null. */
  quota?: { admit(user: string, cleanup: boolean): Promise<string | null> };
}

interface SpawnJob {
  progress: ProgressLog;
  done: Promise<void>;
  wake: WakeableSleep;
  /** Past the queue: the spawn is starting (or ending); a stop now waits for it to finish. */
  admitted: boolean;
  /** Set when the spawn is stopped before it started; `reason` is shown to the student. */
  cancelled: { reason: string | null } | null;
  /** Resolves when the spawn has to wait in the queue (and never when it does not). */
  queued: Promise<void>;
  onQueued: () => void;
}

/** How many servers are up or on their way, for the admin and the active-server limit. */
export interface ServerCounts {
  running: number;
  /** Spawns past the queue (or checking the account before joining it). */
  starting: number;
  /** Spawns waiting in the class-start queue. */
  queued: number;
}

export class ServerManager {
  private readonly jobs = new Map<string, SpawnJob>();
  /** Last finished spawn's progress, so a progress stream opened just after the end still sees it. */
  private readonly finished = new Map<string, ProgressLog>();
  private readonly stopping = new Map<string, Promise<void>>();
  private watchTimer: NodeJS.Timeout | null = null;
  private readonly lookup: (name: string) => Promise<Account | null>;
  private closed = false;
  private readonly queue: SpawnQueue;
  /** Arrival number of each spawn at the queue, for the log (ready order vs. queue order). */
  private queueSeq = 0;

  constructor(private readonly o: ServerManagerOptions) {
    this.lookup = o.lookup ?? lookupAccount;
    this.queue = new SpawnQueue({ concurrency: o.config.spawner.concurrency });
  }

  /** Spawns allowed in their starting phase at once (config, or sized for the machine). */
  get concurrency(): number {
    return this.queue.concurrency;
  }

  /** Applies a new spawn concurrency (runtime settings) to the next queued start. */
  setConcurrency(n: number): void {
    this.queue.setConcurrency(n);
  }

  /** The user's place in the class-start queue, or null when their spawn is not waiting in it. */
  queuePosition(user: string): QueuePosition | null {
    return this.queue.position(user);
  }

  counts(): ServerCounts {
    let running = 0;
    for (const rec of Object.values(this.o.store.data.servers)) if (rec.status === 'running') running++;
    const { queued } = this.queue.counts();
    // a spawn that has just become ready counts as running while its job winds up
    let pending = 0;
    for (const user of this.jobs.keys()) if (!this.isReady(user)) pending++;
    return { running, starting: pending - queued, queued };
  }

  /** Why the user's last spawn failed, as the HubError an API answer should carry; null if it did not. */
  spawnError(user: string): HubError | null {
    return this.progress(user)?.error ?? null;
  }

  record(user: string): ServerRecord | undefined {
    return this.o.store.data.servers[user];
  }

  isReady(user: string): boolean {
    return this.record(user)?.status === 'running';
  }

  isPending(user: string): boolean {
    return this.jobs.has(user);
  }

  /** Progress of the current (or just finished) spawn. */
  progress(user: string): ProgressLog | undefined {
    return this.jobs.get(user)?.progress ?? this.finished.get(user);
  }

  /** Starts the user's server unless it is running or starting; returns the spawn's progress. */
  spawn(user: string): ProgressLog {
    const existing = this.jobs.get(user);
    if (existing) return existing.progress;
    if (this.stopping.has(user)) throw new HubError('HUB_ERR_BAD_REQUEST', 'Your server is still stopping; try again in a few seconds.');
    const rec = this.record(user);
    if (rec?.status === 'running') throw new HubError('HUB_ERR_ALREADY_RUNNING', `${user} is already running`);
    const limit = this.o.config.spawner.activeServerLimit;
    if (limit > 0) {
      const c = this.counts();
      if (c.running + c.starting + c.queued + 1 > limit) return this.refuse(user, limit);
    }
    const progress = new ProgressLog();
    const wake = new WakeableSleep();
    let onQueued!: () => void;
    const queued = new Promise<void>((resolve) => {
      onQueued = resolve;
    });
    const job: SpawnJob = { progress, wake, done: Promise.resolve(), admitted: false, cancelled: null, queued, onQueued };
    this.jobs.set(user, job);
    this.finished.delete(user);
    job.done = this.runSpawn(user, job).finally(() => {
      this.jobs.delete(user);
      this.finished.set(user, progress);
    });
    return progress;
  }

  /**
   * Starts the server after the disk quota had its say: a student over the hard limit is refused
   * (HUB_ERR_DISK_QUOTA with how much to free) unless `cleanup` asks for a cleanup-mode server.
   */
  async spawnChecked(user: string, opts: { cleanup?: boolean } = {}): Promise<ProgressLog> {
    const existing = this.jobs.get(user);
    if (existing) return existing.progress;
    const refusal = this.o.quota ? await this.o.quota.admit(user, !!opts.cleanup) : null;
    if (refusal) return this.refuseWith(user, new HubError('HUB_ERR_DISK_QUOTA', refusal), refusal);
    return this.spawn(user);
  }

  /**
   * The active-server limit is reached: the spawn fails at once with a message the student can act
   * on (a failed progress event, the record's stop reason, and a 503 HubError for the API). Not a
   * 429: nothing is wrong with the request, and retrying at once would not help.
   */
  private refuse(user: string, limit: number): ProgressLog {
    const message = `The lab has reached its limit of ${limit} running ${limit === 1 ? 'server' : 'servers'}. Try again in a few minutes, or ask your instructor.`;
    return this.refuseWith(user, new HubError('HUB_ERR_SPAWN_FAILED', message, { status: 503 }), message);
  }

  /** A spawn refused before it started: failed progress, the record's stop reason, a failure entry. */
  private refuseWith(user: string, error: HubError, message: string): ProgressLog {
    const progress = new ProgressLog();
    progress.fail(error, message);
    const now = new Date().toISOString();
    const prev = this.record(user);
    this.o.store.data.servers[user] = {
      user,
      name: '',
      status: 'failed',
      spawner: prev?.spawner ?? this.o.spawner.kind,
      state: {},
      target: null,
      started: null,
      lastActivity: prev?.lastActivity ?? now,
      stoppedAt: now,
      stopReason: message,
      tokenId: null,
    };
    this.finished.set(user, progress);
    this.recordFailure(user, message);
    this.o.store.commit().catch((err) => this.o.log.error({ err }, 'state write failed'));
    return progress;
  }

  /** Keeps the last SPAWN_FAILURES_KEPT failed spawns for the admin and logs each at warn. */
  private recordFailure(user: string, reason: string): void {
    const list = this.o.store.data.spawnFailures;
    list.push({ user, at: new Date().toISOString(), reason });
    if (list.length > SPAWN_FAILURES_KEPT) list.splice(0, list.length - SPAWN_FAILURES_KEPT);
    this.o.log.warn({ user, reason }, 'spawn failed');
  }

  /**
   * Resolves when the current spawn (if any) has ended, or after `ms`, or as soon as it has to wait
   * in the queue: then it will not end soon, and the student is better off seeing their place.
   */
  async waitSpawn(user: string, ms: number): Promise<void> {
    const job = this.jobs.get(user);
    if (!job) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([job.done, job.queued, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  /** Called when a server reports activity: a spawn waiting for it to answer probes right away. */
  notifyActivity(user: string): void {
    this.jobs.get(user)?.wake.wake();
  }

  /**
   * Called for every unauthenticated `GET /hub/api`: a starting server sends it just before it
   * listens. It names no user, so every waiting spawn probes again soon.
   */
  notifyVersionProbe(): void {
    for (const job of this.jobs.values()) job.wake.wake();
  }

  private async runSpawn(user: string, job: SpawnJob): Promise<void> {
    const { store, tokens, spawner, config, log } = this.o;
    const ulog = log.child({ user });
    const prefix = userPrefix(user);
    const emit = (progress: number, message: string) => job.progress.push({ progress, message });
    const t0 = Date.now();
    let started: { target: string; state: Record<string, unknown> } | null = null;
    const now = new Date().toISOString();
    const rec: ServerRecord = {
      user,
      name: '',
      status: 'pending',
      spawner: spawner.kind,
      state: {},
      target: null,
      started: null,
      lastActivity: now,
      stoppedAt: null,
      stopReason: null,
      tokenId: null,
    };
    store.data.servers[user] = rec;
    try {
      // checked before joining the queue, so a student without a usable account is told at once
      emit(1, 'Checking your account');
      const account = await this.lookup(user);
      if (!account) throw new HubError('HUB_ERR_SPAWN_FAILED', `There is no Linux account named ${user} on this server.`);
      if (account.locked || account.expired) throw new HubError('HUB_ERR_SPAWN_FAILED', 'Your account is locked or expired.');

      const seq = await this.waitTurn(user, job, ulog);
      let startedOk = false;
      try {
        // credentials for this launch: the API token doubles as the OAuth client secret
        const { token, tokenId } = issueServerCredentials(store, tokens, user);
        rec.tokenId = tokenId;
        // the token must be durable before the server first shows it to the hub (≥ 0.3 s after
        // the exec), so the write runs alongside the start instead of before it
        const credentialsSaved = store.commit();
        const env = serverHubEnv({ user, token, apiUrl: this.o.hubApiUrl(), config });

        emit(15, 'Starting your server process');
        const starting = spawner.start({ account, env, prefix, onProgress: (e) => job.progress.push(e) });
        const [saved, launched] = await Promise.allSettled([credentialsSaved, starting]);
        if (launched.status === 'fulfilled') started = launched.value;
        if (saved.status === 'rejected') throw saved.reason;
        if (launched.status === 'rejected') throw launched.reason;
        started = launched.value;
        rec.state = started.state;
        rec.target = started.target;
        await store.commit();

        emit(50, 'Waiting for your server to answer');
        await this.waitReady(user, started, job, config.spawner.startTimeoutSeconds * 1000);
        startedOk = true;
      } finally {
        // the CPU-heavy part is over either way: the next in line may start
        this.queue.release(user, startedOk);
      }

      await this.o.proxy.addRoute(prefix, started.target, { user, server_name: '' });
      rec.status = 'running';
      rec.started = new Date().toISOString();
      await store.commit();
      ulog.info({ ms: Date.now() - t0, seq, target: started.target }, 'server ready');
      job.progress.push({
        progress: 100,
        ready: true,
        message: `Server ready at ${prefix}`,
        html_message: `Server ready at <a href="${prefix}">${prefix}</a>`,
        url: prefix,
      });
    } catch (err) {
      if (started) await spawner.stop(user, started.state).catch((e) => ulog.error({ err: e }, 'cleanup stop failed'));
      this.forgetCredentials(user);
      rec.stoppedAt = new Date().toISOString();
      if (job.cancelled) {
        // stopped while waiting: not a failure, nothing was started
        rec.status = 'stopped';
        rec.stopReason = job.cancelled.reason;
        ulog.info({ reason: job.cancelled.reason }, 'spawn cancelled before it started');
        job.progress.fail(new HubError('HUB_ERR_BAD_REQUEST', 'The start was cancelled.'), 'The start was cancelled.');
      } else {
        const error = err instanceof HubError ? err : new HubError('HUB_ERR_SPAWN_FAILED', `Internal error: ${(err as Error).message}`, { cause: err });
        if (!(err instanceof HubError)) ulog.error({ err }, 'spawn failed with an internal error');
        rec.status = 'failed';
        rec.stopReason = error.message;
        // a shutdown is not the student's failure: nothing for the admin to look into
        if (!this.closed) this.recordFailure(user, error.message);
        job.progress.fail(error);
      }
      await store.commit().catch((e) => ulog.error({ err: e }, 'state write failed'));
    }
  }

  /**
   * Waits in the class-start queue, telling the student their place whenever it changes; returns
   * the spawn's arrival number. Throws when the spawn was cancelled or the hub is shutting down.
   */
  private async waitTurn(user: string, job: SpawnJob, ulog: Logger): Promise<number> {
    const shuttingDown = () => new HubError('HUB_ERR_SPAWN_FAILED', 'LabHub is shutting down.');
    if (job.cancelled) throw new HubError('HUB_ERR_BAD_REQUEST', 'The start was cancelled.');
    if (this.closed) throw shuttingDown();
    const seq = ++this.queueSeq;
    const queuedAt = Date.now();
    let first = 0;
    const admitted = this.queue.acquire(user, (p) => {
      first ||= p.position;
      // the bar creeps from 2 % to 10 % as the line moves, so a waiting student sees it move
      const progress = 2 + Math.floor((8 * (first - p.position)) / first);
      job.progress.push({ progress, message: queueMessage(p), queue: { position: p.position, estimate_seconds: p.estimateSeconds } });
    });
    if (first) {
      ulog.info({ seq, position: first }, 'spawn queued');
      job.onQueued();
    }
    if (!(await admitted)) {
      if (job.cancelled) throw new HubError('HUB_ERR_BAD_REQUEST', 'The start was cancelled.');
      throw shuttingDown();
    }
    job.admitted = true;
    ulog.info({ seq, waitedMs: Date.now() - queuedAt }, 'spawn starting');
    return seq;
  }

  private async waitReady(user: string, started: { target: string; state: Record<string, unknown> }, job: SpawnJob, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    const url = `${started.target}${userPrefix(user)}`;
    // Probing a port nobody listens on costs microseconds, so probe often: the server's version
    // probe and first activity report (see notifyActivity) wake the loop and make it probe faster.
    let delay = 20;
    while (!this.closed) {
      const poll = await this.o.spawner.poll(user, started.state);
      if (!poll.running) throw new HubError('HUB_ERR_SPAWN_FAILED', `Your server stopped while starting: ${poll.reason}`);
      const status = await probeHttp(url, 2000);
      if (status !== null && status < 500) return;
      if (Date.now() > deadline) {
        const tail = await this.o.spawner.logTail(user, 10).catch(() => []);
        throw new HubError(
          'HUB_ERR_SPAWN_FAILED',
          `Your server did not answer within ${Math.round(timeoutMs / 1000)} seconds.` + (tail.length ? `\nLast log lines:\n${tail.join('\n')}` : ''),
        );
      }
      const woken = await job.wake.sleep(delay);
      delay = woken ? 5 : Math.min(delay * 1.5, 50);
    }
    throw new HubError('HUB_ERR_SPAWN_FAILED', 'LabHub is shutting down.');
  }

  private forgetCredentials(user: string): void {
    forgetServerCredentials(this.o.store, this.o.tokens, user);
  }

  /** Stops the user's server (route first, then the process); `reason` is shown to the student. */
  stop(user: string, reason: string | null = null): Promise<void> {
    const current = this.stopping.get(user);
    if (current) return current;
    const p = this.runStop(user, reason).finally(() => this.stopping.delete(user));
    this.stopping.set(user, p);
    return p;
  }

  isStopping(user: string): boolean {
    return this.stopping.has(user);
  }

  private async runStop(user: string, reason: string | null): Promise<void> {
    const job = this.jobs.get(user);
    if (job && !job.admitted) {
      // not started yet: leave the queue (or do not join it) instead of starting only to stop
      job.cancelled = { reason };
      this.queue.cancel(user);
    }
    if (job) await job.done;
    const rec = this.record(user);
    if (!rec || rec.status === 'stopped' || rec.status === 'failed') return;
    const ulog = this.o.log.child({ user });
    rec.status = 'stopping';
    await this.o.proxy.deleteRoute(userPrefix(user)).catch((err) => ulog.warn({ err }, 'could not delete route'));
    await this.o.spawner.stop(user, rec.state);
    this.forgetCredentials(user);
    rec.status = 'stopped';
    rec.stoppedAt = new Date().toISOString();
    rec.stopReason = reason;
    rec.target = null;
    await this.o.store.commit();
    ulog.info({ reason }, 'server stopped');
  }

  /** Re-adds the proxy route of a running server (e.g. after the proxy lost it). */
  async ensureRoute(user: string): Promise<void> {
    const rec = this.record(user);
    if (rec?.status === 'running' && rec.target) await this.o.proxy.addRoute(userPrefix(user), rec.target, { user, server_name: '' });
  }

  /**
   * Checks a server the hub believes is running; when it is gone, records why, removes its route
   * and credentials, and returns false.
   */
  async check(user: string): Promise<boolean> {
    const rec = this.record(user);
    if (!rec || rec.status !== 'running') return false;
    const poll = await this.o.spawner.poll(user, rec.state);
    if (poll.running) {
      if (poll.notice) this.recordNotice(rec, poll.notice);
      return true;
    }
    if (rec.status !== 'running') return false;
    await this.markDead(rec, `Your server stopped unexpectedly: ${poll.reason}`);
    if (poll.outOfMemory) this.recordFailure(user, rec.stopReason ?? poll.reason);
    return false;
  }

  /** A running server's event the student and admin should see (a kernel killed by the memory limit). */
  private recordNotice(rec: ServerRecord, notice: string): void {
    rec.notice = notice;
    this.recordFailure(rec.user, notice);
    this.o.store.commit().catch((err) => this.o.log.error({ err }, 'state write failed'));
  }

  private async markDead(rec: ServerRecord, reason: string): Promise<void> {
    const ulog = this.o.log.child({ user: rec.user });
    ulog.warn({ reason }, 'server died');
    await this.o.proxy.deleteRoute(userPrefix(rec.user)).catch((err) => ulog.warn({ err }, 'could not delete route'));
    this.forgetCredentials(rec.user);
    rec.status = 'stopped';
    rec.stoppedAt = new Date().toISOString();
    rec.stopReason = reason;
    rec.target = null;
    await this.o.store.commit();
  }

  /**
   * At hub start: re-adopt every recorded server that is alive and answers, mark the others
   * stopped, and make the proxy's routes match (hub default route included).
   */
  reconcile(): Promise<{ adopted: string[]; stopped: string[] }> {
    const { store, tokens, proxy, spawner, log } = this.o;
    return reconcileServers({ store, tokens, proxy, spawner, log, hubTarget: this.o.hubTarget() });
  }

  /** Polls running servers every `watchIntervalMs` so a dead one is noticed without a visit. */
  startWatching(): void {
    const interval = this.o.watchIntervalMs ?? 15_000;
    const tick = async () => {
      for (const rec of Object.values(this.o.store.data.servers)) {
        if (this.closed) return;
        if (rec.status === 'running' && !this.stopping.has(rec.user)) await this.check(rec.user).catch(() => undefined);
      }
    };
    this.watchTimer = setInterval(() => void tick(), interval);
    this.watchTimer.unref();
  }

  /** Stops watching; user servers keep running unless `stopServers`. */
  async close(stopServers = false): Promise<void> {
    this.closed = true;
    this.queue.close();
    if (this.watchTimer) clearInterval(this.watchTimer);
    for (const job of this.jobs.values()) job.wake.wake();
    await Promise.allSettled([...this.jobs.values()].map((j) => j.done));
    if (stopServers) {
      await Promise.allSettled(
        Object.values(this.o.store.data.servers)
          .filter((r) => r.status === 'running')
          .map((r) => this.stop(r.user, 'LabHub was shut down.')),
      );
    }
    await Promise.allSettled([...this.stopping.values()]);
  }
}
