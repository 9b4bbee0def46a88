/**
 * Reconciliation at hub start (DESIGN.md "Processes"): every recorded server that is still alive
 * and answers is re-adopted; the others are marked stopped with the reason the student will read;
 * the proxy's routes are made to match, the hub's default route included. Servers are never
 * started or restarted here, and a live server is stopped only when it is not a finished start.
 */
import type { Logger } from '../log.js';
import type { ProxyClient } from '../proxy/types.js';
import type { Spawner } from '../spawner/types.js';
import type { Store } from '../store/store.js';
import type { TokenStore } from '../tokens/token-store.js';
import { forgetServerCredentials, userPrefix } from './credentials.js';
import { probeHttp } from './readiness.js';

export interface ReconcileDeps {
  store: Store;
  tokens: TokenStore;
  proxy: ProxyClient;
  spawner: Spawner;
  log: Logger;
  /** Where the proxy's default route (`/`) goes. */
  hubTarget: string;
}

export async function reconcileServers(d: ReconcileDeps): Promise<{ adopted: string[]; stopped: string[] }> {
  const { store, proxy, spawner, log } = d;
  const adopted: string[] = [];
  const stopped: string[] = [];
  await proxy.addRoute('/', d.hubTarget, { hub: true });
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
    // a spawn still pending (queued, or its process already gone) was cut short by the restart too
    const cutShort = poll.running || rec.status === 'pending';
    forgetServerCredentials(store, d.tokens, rec.user);
    rec.status = 'stopped';
    rec.stoppedAt = new Date().toISOString();
    rec.target = null;
    rec.stopReason = cutShort
      ? 'LabHub restarted while your server was starting, so it was stopped. Start it again.'
      : `Your server stopped: ${poll.reason}`;
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
