/**
 * ServerManager: the life of each student's server. It creates the server's token and OAuth
 * client, asks the spawner for a process, waits until it answers HTTP, adds the proxy route, and
 * undoes all of it on stop or failure. It notices servers that died behind its back (periodic poll
 * and on demand) and, at start, re-adopts what is still running (reconcile).
 */
import { lookupAccount, type Account } from '../auth/accounts.js';
import type { Config } from '../config.js';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ProxyClient } from '../proxy/types.js';
import type { Spawner } from '../spawner/types.js';
import type { ServerRecord } from '../store/state.js';
import type { Store } from '../store/store.js';
import { accessScopes, serverTokenScopes } from '../tokens/scopes.js';
import type { TokenStore } from '../tokens/token-store.js';
import { hashToken } from '../tokens/hash.js';
import { ProgressLog } from './progress.js';
import { probeHttp, WakeableSleep } from './readiness.js';

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
}

interface SpawnJob {
  progress: ProgressLog;
  done: Promise<void>;
  wake: WakeableSleep;
}

export function userPrefix(user: string): string {
  return `/user/${user}/`;
}

export function clientIdFor(user: string): string {
  return `jupyterhub-user-${encodeURIComponent(user)}`;
}

export class ServerManager {
  private readonly jobs = new Map<string, SpawnJob>();
  /** Last finished spawn's progress, so a progress stream opened just after the end still sees it. */
  private readonly finished = new Map<string, ProgressLog>();
  private readonly stopping = new Map<string, Promise<void>>();
  private watchTimer: NodeJS.Timeout | null = null;
  private readonly lookup: (name: string) => Promise<Account | null>;
  private closed = false;

  constructor(private readonly o: ServerManagerOptions) {
    this.lookup = o.lookup ?? lookupAccount;
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
    const progress = new ProgressLog();
    const wake = new WakeableSleep();
    const job: SpawnJob = { progress, wake, done: Promise.resolve() };
    this.jobs.set(user, job);
    this.finished.delete(user);
    job.done = this.runSpawn(user, job).finally(() => {
      this.jobs.delete(user);
      this.finished.set(user, progress);
    });
    return progress;
  }

  /** Resolves when the current spawn (if any) has ended, or after `ms`. */
  async waitSpawn(user: string, ms: number): Promise<void> {
    const job = this.jobs.get(user);
    if (!job) return;
    await Promise.race([job.done, new Promise((r) => setTimeout(r, ms).unref())]);
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
      emit(5, 'Checking your account');
      const account = await this.lookup(user);
      if (!account) throw new HubError('HUB_ERR_SPAWN_FAILED', `There is no Linux account named ${user} on this server.`);
      if (account.locked || account.expired) throw new HubError('HUB_ERR_SPAWN_FAILED', 'Your account is locked or expired.');

      // credentials for this launch: the API token doubles as the OAuth client secret
      tokens.revokeWhere((t) => t.user === user && t.kind === 'server');
      const clientId = clientIdFor(user);
      const { token, record: tokenRec } = tokens.create({
        user,
        kind: 'server',
        scopes: serverTokenScopes(user),
        note: `Server at ${prefix}`,
        clientId: 'jupyterhub',
      });
      rec.tokenId = tokenRec.id;
      store.data.oauthClients[clientId] = {
        id: clientId,
        secretHash: hashToken(token),
        redirectUri: `${prefix}oauth_callback`,
        description: `Server at ${prefix}`,
        user,
        server: '',
        allowedScopes: accessScopes(user, ''),
      };
      // the token must be durable before the server first shows it to the hub (≥ 0.3 s after the
      // exec), so the write runs alongside the start instead of before it
      const credentialsSaved = store.commit();

      const apiUrl = this.o.hubApiUrl();
      const env: Record<string, string> = {
        JUPYTERHUB_API_TOKEN: token,
        JPY_API_TOKEN: token,
        JUPYTERHUB_CLIENT_ID: clientId,
        JUPYTERHUB_API_URL: apiUrl,
        JUPYTERHUB_ACTIVITY_URL: `${apiUrl}/users/${encodeURIComponent(user)}/activity`,
        JUPYTERHUB_USER: user,
        JUPYTERHUB_SERVER_NAME: '',
        JUPYTERHUB_BASE_URL: '/',
        JUPYTERHUB_SERVICE_PREFIX: prefix,
        JUPYTERHUB_OAUTH_CALLBACK_URL: `${prefix}oauth_callback`,
        JUPYTERHUB_OAUTH_ACCESS_SCOPES: JSON.stringify(accessScopes(user, '')),
        JUPYTERHUB_OAUTH_SCOPES: JSON.stringify(accessScopes(user, '')),
        JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: '[]',
        JUPYTERHUB_HOST: '',
      };
      if (config.spawner.defaultUrl) env.JUPYTERHUB_DEFAULT_URL = config.spawner.defaultUrl;

      emit(15, 'Starting your server process');
      const starting = spawner.start({
        account,
        env,
        prefix,
        onProgress: (e) => job.progress.push(e),
      });
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

      await this.o.proxy.addRoute(prefix, started.target, { user, server_name: '' });
      rec.status = 'running';
      rec.started = new Date().toISOString();
      await store.commit();
      ulog.info({ ms: Date.now() - t0, target: started.target }, 'server ready');
      job.progress.push({
        progress: 100,
        ready: true,
        message: `Server ready at ${prefix}`,
        html_message: `Server ready at <a href="${prefix}">${prefix}</a>`,
        url: prefix,
      });
    } catch (err) {
      const reason = err instanceof HubError ? err.message : `Internal error: ${(err as Error).message}`;
      ulog.warn({ err: err instanceof HubError ? undefined : err, reason }, 'spawn failed');
      if (started) await spawner.stop(user, started.state).catch((e) => ulog.error({ err: e }, 'cleanup stop failed'));
      this.forgetCredentials(user);
      rec.status = 'failed';
      rec.stoppedAt = new Date().toISOString();
      rec.stopReason = reason;
      await store.commit().catch((e) => ulog.error({ err: e }, 'state write failed'));
      job.progress.push({ progress: 100, failed: true, message: `Spawn failed: ${reason}` });
    }
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

  /** Removes the server's token, its OAuth client, and every OAuth token issued to that client. */
  private forgetCredentials(user: string): void {
    const { tokens, store } = this.o;
    const clientId = clientIdFor(user);
    tokens.revokeWhere((t) => (t.user === user && t.kind === 'server') || t.clientId === clientId);
    delete store.data.oauthClients[clientId];
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
    if (poll.running) return true;
    if (rec.status !== 'running') return false;
    await this.markDead(rec, `Your server stopped unexpectedly: ${poll.reason}`);
    return false;
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
  async reconcile(): Promise<{ adopted: string[]; stopped: string[] }> {
    const { store, proxy, spawner, log } = this.o;
    const adopted: string[] = [];
    const stopped: string[] = [];
    await proxy.addRoute('/', this.o.hubTarget(), { hub: true });
    for (const rec of Object.values(store.data.servers)) {
      if (rec.status === 'stopped' || rec.status === 'failed') continue;
      const poll = await spawner.poll(rec.user, rec.state).catch(() => ({ running: false as const, exitCode: null, signal: null, reason: 'unknown' }));
      const answers = poll.running && rec.target ? await probeHttp(`${rec.target}${userPrefix(rec.user)}`, 5000) : null;
      if (poll.running && rec.status === 'running' && answers !== null && answers < 500) {
        adopted.push(rec.user);
        continue;
      }
      if (poll.running) {
        // half-started or not answering: stop it rather than leave an orphan
        await spawner.stop(rec.user, rec.state).catch((err) => log.warn({ err, user: rec.user }, 'stop failed'));
      }
      this.forgetCredentials(rec.user);
      rec.status = 'stopped';
      rec.stoppedAt = new Date().toISOString();
      rec.target = null;
      rec.stopReason = poll.running
        ? 'LabHub restarted while your server was starting, so it was stopped. Start it again.'
        : `Your server stopped: ${poll.running ? '' : poll.reason}`;
      stopped.push(rec.user);
    }
    await store.commit();
    const routes = await proxy.getRoutes();
    for (const [prefix, route] of Object.entries(routes)) {
      if (prefix === '/') continue;
      const user = route.data.user;
      const rec = typeof user === 'string' ? store.data.servers[user] : undefined;
      if (!rec || rec.status !== 'running' || prefix !== userPrefix(rec.user) || route.target !== rec.target) {
        await proxy.deleteRoute(prefix);
      }
    }
    for (const user of adopted) {
      const rec = store.data.servers[user]!;
      if (routes[userPrefix(user)]?.target !== rec.target) await proxy.addRoute(userPrefix(user), rec.target!, { user, server_name: '' });
    }
    log.info({ adopted: adopted.length, stopped: stopped.length }, 'reconciled servers with processes and proxy routes');
    return { adopted, stopped };
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
