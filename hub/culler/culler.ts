/**
 * IdleCuller: stops students' servers nobody is using, so a lab machine's memory goes to the
 * students who are working. Activity comes from two places: the single-user server's own reports
 * (POST /hub/api/users/<name>/activity, every 5 minutes by default) and the proxy's per-route
 * `last_activity` (every successful response and websocket frame), which this culler copies into
 * the state each round. It is JupyterHub's `jupyterhub-idle-culler` service built in:
 * https://github.com/jupyterhub/jupyterhub-idle-culler
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { ProxyClient, Route } from '../proxy/types.js';
import { userPrefix, type ServerManager } from '../servers/manager.js';
import type { ServerRecord } from '../store/state.js';
import type { Store } from '../store/store.js';

/** What the culler needs of the server manager (a fake in unit tests). */
export type CullableServers = Pick<ServerManager, 'record' | 'stop' | 'isPending' | 'isStopping'>;

export interface IdleCullerOptions {
  config: Readonly<Config['culler']>;
  store: Pick<Store, 'data' | 'commit'>;
  servers: CullableServers;
  proxy: Pick<ProxyClient, 'getRoutes'>;
  log: Logger;
}

/** One server stopped by a round, for logs and tests. */
export interface Cull {
  user: string;
  why: 'idle' | 'max-age';
  idleSeconds: number;
  ageSeconds: number | null;
}

export interface CullRound {
  /** Servers whose last activity moved forward from the proxy's routes. */
  activityFromProxy: string[];
  culled: Cull[];
}

export class IdleCuller {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<CullRound> | null = null;
  private closed = false;

  constructor(private readonly o: IdleCullerOptions) {}

  /** Runs a round every `intervalSeconds` (the first one after one interval); no-op when disabled. */
  start(): void {
    const { enabled, idleTimeoutSeconds, maxAgeSeconds, cullAdmins, intervalSeconds } = this.o.config;
    if (!enabled || this.closed || this.timer) return;
    this.o.log.info({ idleTimeoutSeconds, maxAgeSeconds, cullAdmins, intervalSeconds }, 'idle culler started');
    this.schedule();
  }

  /** Stops the timer and waits for a round in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.round?.catch(() => undefined);
  }

  private schedule(): void {
    if (this.closed) return;
    // the next round is timed from the end of this one, so slow stops never make rounds overlap
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runOnce()
        .catch((err: unknown) => this.o.log.error({ err }, 'idle culler round failed'))
        .finally(() => this.schedule());
    }, this.o.config.intervalSeconds * 1000);
    this.timer.unref();
  }

  /**
   * One round at time `now` (epoch ms): copy proxy activity into the state, then stop the servers
   * that have been idle too long or have run longer than `maxAgeSeconds`. Resolves when those
   * stops have finished.
   */
  runOnce(now: number = Date.now()): Promise<CullRound> {
    if (this.round) return this.round;
    const round = this.cullRound(now).finally(() => {
      this.round = null;
    });
    this.round = round;
    return round;
  }

  private async cullRound(now: number): Promise<CullRound> {
    const result: CullRound = { activityFromProxy: [], culled: [] };
    if (!this.o.config.enabled || this.closed) return result;
    const routes = await this.readRoutes();
    result.activityFromProxy = this.takeProxyActivity(routes);
    if (result.activityFromProxy.length) await this.o.store.commit();

    const stops: Promise<void>[] = [];
    for (const rec of this.candidates()) {
      const cull = this.decide(rec, now);
      if (!cull || this.closed) continue;
      result.culled.push(cull);
      stops.push(this.stop(cull));
    }
    await Promise.all(stops);
    return result;
  }

  /** The proxy's routes, or none when the proxy cannot be reached (no proxy activity this round). */
  private async readRoutes(): Promise<Record<string, Route>> {
    try {
      return await this.o.proxy.getRoutes();
    } catch (err) {
      this.o.log.warn({ err }, 'could not read proxy activity; using the activity the hub already has');
      return {};
    }
  }

  /** Running servers that are neither starting nor being stopped. */
  private candidates(): ServerRecord[] {
    const { servers, store } = this.o;
    return Object.values(store.data.servers).filter(
      (rec) => rec.status === 'running' && !servers.isPending(rec.user) && !servers.isStopping(rec.user),
    );
  }

  /** Moves server and user activity forward (never back) to the route's; returns whose moved. */
  private takeProxyActivity(routes: Record<string, Route>): string[] {
    const changed: string[] = [];
    for (const rec of this.candidates()) {
      const seen = parseTime(routes[userPrefix(rec.user)]?.last_activity);
      if (seen === null) continue;
      const iso = new Date(seen).toISOString();
      const user = this.o.store.data.users[rec.user];
      let moved = false;
      if (user && (parseTime(user.lastActivity) ?? -Infinity) < seen) {
        user.lastActivity = iso;
        moved = true;
      }
      if ((parseTime(rec.lastActivity) ?? -Infinity) < seen) {
        rec.lastActivity = iso;
        moved = true;
      }
      if (moved) changed.push(rec.user);
    }
    return changed;
  }

  private decide(rec: ServerRecord, now: number): Cull | null {
    const { idleTimeoutSeconds, maxAgeSeconds, cullAdmins } = this.o.config;
    if (!cullAdmins && this.o.store.data.users[rec.user]?.admin) return null;
    const started = parseTime(rec.started);
    // a server that has never reported activity has been idle since it started
    const last = Math.max(parseTime(rec.lastActivity) ?? -Infinity, started ?? -Infinity);
    if (last === -Infinity) return null;
    const idleSeconds = Math.max(0, Math.round((now - last) / 1000));
    const ageSeconds = started === null ? null : Math.round((now - started) / 1000);
    if (now - last > idleTimeoutSeconds * 1000) return { user: rec.user, why: 'idle', idleSeconds, ageSeconds };
    if (maxAgeSeconds > 0 && started !== null && now - started > maxAgeSeconds * 1000) {
      return { user: rec.user, why: 'max-age', idleSeconds, ageSeconds };
    }
    return null;
  }

  private async stop(cull: Cull): Promise<void> {
    const { config, log, servers } = this.o;
    const reason = cull.why === 'idle' ? idleReason(config.idleTimeoutSeconds) : maxAgeReason(config.maxAgeSeconds);
    log.info({ user: cull.user, why: cull.why, idleSeconds: cull.idleSeconds, ageSeconds: cull.ageSeconds }, 'culling server');
    try {
      await servers.stop(cull.user, reason);
    } catch (err) {
      log.error({ err, user: cull.user }, 'could not cull server');
    }
  }
}

/** What a student whose idle server was stopped reads on their next visit. */
export function idleReason(idleTimeoutSeconds: number): string {
  return `Your server was stopped after ${describeDuration(idleTimeoutSeconds)} without activity, to free the machine for others. Your files are safe; start it again to continue.`;
}

/** What a student whose server reached the maximum age reads on their next visit. */
export function maxAgeReason(maxAgeSeconds: number): string {
  return `Your server was stopped because it had been running for ${describeDuration(maxAgeSeconds)}, the longest a server may run here. Your files are safe; start it again to continue.`;
}

/** "45 seconds", "60 minutes", "8 hours", "2 days": whole units a student reads at a glance. */
export function describeDuration(seconds: number): string {
  const unit = (n: number, name: string) => `${n} ${name}${n === 1 ? '' : 's'}`;
  if (seconds < 120) return unit(Math.round(seconds), 'second');
  if (seconds < 2 * 3600) return unit(Math.round(seconds / 60), 'minute');
  if (seconds < 2 * 86_400) return unit(Math.round(seconds / 3600), 'hour');
  return unit(Math.round(seconds / 86_400), 'day');
}

function parseTime(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}
