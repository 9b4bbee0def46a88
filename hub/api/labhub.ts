/**
 * LabHub's admin extensions of the REST API (docs/admin-api.md): the dashboard's status, the
 * Users view's table, home-usage refresh, logs and run-time settings (backups: ./backups.ts). All admin only, except
 * `session`, which tells the admin GUI who is logged in and its CSRF token.
 */
import express, { type Router } from 'express';
import type { BackupService } from '../backup/types.js';
import type { Config } from '../config.js';
import { HubError } from '../errors.js';
import type { IdentityResolver } from '../http/identity.js';
import { listLogs, tailLog } from '../admin/log-files.js';
import { machineStats } from '../admin/machine-stats.js';
import type { PasswdIndex } from '../admin/passwd-index.js';
import type { Logger } from '../log.js';
import { isProxyAlive, readProxyInfo } from '../proxy/client.js';
import type { ProxyClient } from '../proxy/types.js';
import type { ServerManager } from '../servers/manager.js';
import type { RuntimeSettings } from '../settings/runtime-settings.js';
import type { Store } from '../store/store.js';
import { LABHUB_VERSION } from '../version.js';
import { backupSummary } from './backups.js';
import { apiIdentity, jsonBody, membershipIndex, requireAdmin, userParam } from './access.js';
import { isoZ } from './models.js';

export interface LabhubRouterOptions {
  config: Readonly<Config>;
  store: Store;
  identity: IdentityResolver;
  servers: ServerManager;
  proxy: ProxyClient;
  settings: RuntimeSettings;
  /** Each home's last measured size (the quota scanner's) and a way to measure again now. */
  usage: { get(name: string): { bytes: number; measuredAt: string } | undefined; refresh(): Promise<void> };
  passwd: PasswdIndex;
  log: Logger;
  startedAt: Date;
  /** The backup engine, for the dashboard's backup card (absent: `backup` is null). */
  backup?: BackupService;
}

/** A user counts as online with activity in the last five minutes. */
const ONLINE_MS = 5 * 60_000;

export type ServerState = 'stopped' | 'queued' | 'starting' | 'running' | 'stopping';

function uptime(since: string | Date | null | undefined, now: number): number | null {
  const t = since ? new Date(since).getTime() : NaN;
  return Number.isFinite(t) ? Math.max(0, Math.round((now - t) / 1000)) : null;
}

export function labhubRouter(o: LabhubRouterOptions): Router {
  const r = express.Router();
  const admin = (req: express.Request) => requireAdmin(req, o.identity);

  const serverState = (user: string): ServerState => {
    if (o.servers.isStopping(user)) return 'stopping';
    if (o.servers.isPending(user) && !o.servers.isReady(user)) return o.servers.queuePosition(user) ? 'queued' : 'starting';
    return o.servers.isReady(user) ? 'running' : 'stopped';
  };

  r.get('/hub/api/labhub/session', (req, res) => {
    const id = apiIdentity(req, o.identity);
    res.json({ user: id.user, admin: id.admin, xsrf: id.session?.csrf ?? null, version: LABHUB_VERSION });
  });

  r.get('/hub/api/labhub/status', async (req, res) => {
    admin(req);
    const now = Date.now();
    const info = readProxyInfo(o.config.dataDir);
    const [machine, routes, backup] = await Promise.all([
      machineStats('/home').catch((err: unknown) => {
        o.log.warn({ err }, 'machine figures unavailable');
        return null;
      }),
      o.proxy.getRoutes().then(
        (rs) => Object.keys(rs).length,
        () => null,
      ),
      o.backup
        ? backupSummary(o.backup).catch((err: unknown) => {
            o.log.warn({ err }, 'backup status unavailable');
            return null;
          })
        : null,
    ]);
    const alive = routes !== null || (info ? await isProxyAlive(info) : false);
    const users = Object.values(o.store.data.users);
    const online = users.filter((u) => u.lastActivity && now - Date.parse(u.lastActivity) < ONLINE_MS).length;
    let stopping = 0;
    for (const u of users) if (o.servers.isStopping(u.name)) stopping++;
    const lockouts = [];
    for (const kind of ['users', 'addresses'] as const) {
      for (const [key, f] of Object.entries(o.store.data.loginFailures[kind])) {
        if (f.lockedUntil && Date.parse(f.lockedUntil) > now) {
          lockouts.push({ kind: kind === 'users' ? 'user' : 'address', key, until: isoZ(f.lockedUntil), failures: f.count });
        }
      }
    }
    res.json({
      hub: { version: LABHUB_VERSION, pid: process.pid, startedAt: o.startedAt.toISOString(), uptimeSeconds: uptime(o.startedAt, now) },
      proxy: {
        alive,
        pid: alive ? (info?.pid ?? null) : null,
        startedAt: alive ? (info?.startedAt ?? null) : null,
        uptimeSeconds: alive ? uptime(info?.startedAt, now) : null,
        publicUrl: info?.publicUrl ?? null,
        routes,
      },
      machine,
      users: { total: users.length, online, admins: users.filter((u) => u.admin).length },
      servers: {
        ...o.servers.counts(),
        stopping,
        limit: o.settings.live.spawner.activeServerLimit,
        concurrency: o.servers.concurrency,
      },
      spawnFailures: o.store.data.spawnFailures
        .slice(-10)
        .reverse()
        .map((f) => ({ user: f.user, time: isoZ(f.at), message: f.reason })),
      lockouts,
      backup,
    });
  });

  r.get('/hub/api/labhub/users', async (req, res) => {
    admin(req);
    const now = Date.now();
    const passwd = await o.passwd.get().catch(() => null);
    const groups = membershipIndex(o.store);
    const failures = o.store.data.loginFailures.users;
    const rows = Object.values(o.store.data.users).map((u) => {
      const account = passwd?.get(u.name);
      const server = o.servers.record(u.name);
      const state = serverState(u.name);
      const usage = o.usage.get(u.name);
      const lock = failures[u.name]?.lockedUntil;
      return {
        name: u.name,
        fullName: account?.fullName ?? '',
        uid: account?.uid ?? null,
        linux: passwd ? !!account : null,
        admin: u.admin,
        groups: groups.get(u.name) ?? [],
        server: state,
        queuePosition: state === 'queued' ? (o.servers.queuePosition(u.name)?.position ?? null) : null,
        started: state === 'running' ? isoZ(server?.started) : null,
        lastActivity: isoZ(u.lastActivity),
        url: `/user/${u.name}/`,
        homeBytes: usage?.bytes ?? null,
        homeMeasuredAt: usage?.measuredAt ?? null,
        lockedOut: !!lock && Date.parse(lock) > now,
      };
    });
    rows.sort((a, b) => a.name.localeCompare(b.name));
    res.json(rows);
  });

  r.post('/hub/api/labhub/usage/refresh', (req, res) => {
    admin(req);
    void o.usage.refresh();
    res.status(202).json({ started: true });
  });

  r.get('/hub/api/labhub/logs', async (req, res) => {
    admin(req);
    res.json(await listLogs(o.config.logDir));
  });

  const sendLog = async (req: express.Request, res: express.Response, id: string) => {
    const lines = Math.min(5000, Math.max(1, Number.parseInt(String(req.query.lines ?? '200'), 10) || 200));
    const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 200) : '';
    const tail = await tailLog(o.config.logDir, id, lines, q);
    if (!tail) throw new HubError('HUB_ERR_NOT_FOUND', `There is no ${id} log yet.`);
    res.json(tail);
  };
  r.get(['/hub/api/labhub/logs/hub', '/hub/api/labhub/logs/proxy'], async (req, res) => {
    admin(req);
    await sendLog(req, res, req.path.endsWith('/hub') ? 'hub' : 'proxy');
  });
  r.get('/hub/api/labhub/logs/users/:name', async (req, res) => {
    admin(req);
    await sendLog(req, res, `users/${userParam(req)}`);
  });

  const settingsModel = () => ({ settings: o.settings.values(), saved: o.settings.saved() });
  r.get('/hub/api/labhub/settings', (req, res) => {
    admin(req);
    res.json(settingsModel());
  });
  r.patch('/hub/api/labhub/settings', jsonBody, async (req, res) => {
    const id = admin(req);
    const values = await o.settings.update(req.body);
    o.log.info({ by: id.user, settings: values }, 'settings changed');
    res.json(settingsModel());
  });

  return r;
}
