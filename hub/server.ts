/**
 * createHub: the composition root. Builds logger → store → authenticator → spawner → proxy client
 * → server manager → backup engine → OAuth provider, API and pages → HTTP server, with plain constructors, and
 * returns `{ listen, close, address }`. Tests pass their own seams through `deps`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { groupsRouter } from './api/groups.js';
import { apiRouter } from './api/router.js';
import { tokensRouter } from './api/tokens.js';
import { usersRouter } from './api/users.js';
import { accountsRouter } from './api/accounts.js';
import { labhubRouter } from './api/labhub.js';
import { backupsRouter } from './api/backups.js';
import { quotaRouter } from './api/quota.js';
import { QuotaService } from './quota/service.js';
import { serverLimitsFor } from './quota/limits-for.js';
import { createBackupService } from './backup/service.js';
import { PasswdIndex } from './admin/passwd-index.js';
import { adminPagesRouter } from './pages/admin.js';
import { RuntimeSettings } from './settings/runtime-settings.js';
import { JUPYTERHUB_VERSION } from './api/models.js';
import { cachedLookup, lookupAccount, type Account } from './auth/accounts.js';
import { LoginLimiter } from './auth/login-limiter.js';
import { LoginService } from './auth/login.js';
import { PamAuthenticator, type Authenticator } from './auth/pam.js';
import { SessionManager } from './auth/sessions.js';
import type { Config } from './config.js';
import { IdleCuller } from './culler/culler.js';
import { HubError } from './errors.js';
import { errorHandler } from './http/error-handler.js';
import { issueCliToken } from './admin/cli-token.js';
import { IdentityResolver } from './http/identity.js';
import { createLogger, type Logger } from './log.js';
import { OAuthProvider } from './oauth/provider.js';
import { pagesRouter } from './pages/router.js';
import { HttpProxyClient, readProxyInfo } from './proxy/client.js';
import { loadOrCreateProxyToken } from './proxy/secret.js';
import type { ProxyClient } from './proxy/types.js';
import { ServerManager } from './servers/manager.js';
import { launcherFromConfig } from './spawner/launcher-config.js';
import { LocalSpawner } from './spawner/local.js';
import { startDockerSpawner } from './spawner/docker/from-config.js';
import type { Spawner } from './spawner/types.js';
import { Store } from './store/store.js';
import { TokenStore } from './tokens/token-store.js';

export interface HubDeps {
  logger?: Logger;
  authenticator?: Authenticator;
  spawner?: Spawner;
  proxy?: ProxyClient;
  lookup?: (name: string) => Promise<Account | null>;
  watchIntervalMs?: number;
  /** The config file the hub was started with (backed up with the hub's state); none = defaults only. */
  configFile?: string;
}

export interface Hub {
  listen(): Promise<AddressInfo>;
  close(): Promise<void>;
  address(): AddressInfo;
  readonly store: Store;
  readonly servers: ServerManager;
}

/** The proxy's control API: from config, or from the `proxy.json` a running proxy wrote. */
export function proxyApiUrl(config: Readonly<Config>): string {
  if (config.proxy.apiPort !== 0) return `http://${config.proxy.apiIp}:${config.proxy.apiPort}`;
  const info = readProxyInfo(config.dataDir);
  if (!info) {
    throw new Error(`no proxy is running for ${config.dataDir} (no proxy.json); start it with "labhub proxy" or use "labhub serve"`);
  }
  return info.apiUrl;
}

export async function createHub(fileConfig: Readonly<Config>, deps: HubDeps = {}): Promise<Hub> {
  const startedAt = new Date();
  const log = deps.logger ?? createLogger({ name: 'hub', level: fileConfig.logLevel, logDir: fileConfig.logDir });
  const store = await Store.open(fileConfig.dataDir);
  // settings saved from the admin GUI override the file; components get the live copy
  const settings = new RuntimeSettings(fileConfig, store);
  const config = settings.live;
  if (settings.saved().length) log.info({ saved: settings.saved() }, 'run-time settings from the state override the config file');
  const tokens = new TokenStore(store);
  tokens.pruneExpired();
  const sessions = new SessionManager(store, config.cookie.maxAgeDays * 86_400_000);
  const limiter = new LoginLimiter(store, config.auth);
  const authenticator = deps.authenticator ?? new PamAuthenticator(config.auth.pamService);
  const lookup = deps.lookup ?? cachedLookup(lookupAccount, 5000);
  const login = new LoginService(store, authenticator, limiter, config.auth, log, lookup);
  const identity = new IdentityResolver(store, sessions, tokens);
  const passwd = new PasswdIndex();
  const quota = new QuotaService({ config, store, log: log.child({ component: 'quota' }), passwd });
  // the Docker spawner checks the daemon and the image before the hub starts (hub/spawner/docker/from-config.ts)
  const dockerSpawner =
    !deps.spawner && config.spawner.kind === 'docker'
      ? await startDockerSpawner(config, store.data.servers, log.child({ component: 'spawner' }), serverLimitsFor(() => quota.policy(), (name) => quota.groupsOf(name)))
      : null;
  const spawner =
    deps.spawner ??
    dockerSpawner ??
    new LocalSpawner({
      logDir: config.logDir,
      cmd: [...config.spawner.cmd],
      args: [...config.spawner.args],
      environment: { ...config.spawner.environment },
      path: config.spawner.path,
      stopGraceSeconds: config.spawner.stopGraceSeconds,
      logger: log.child({ component: 'spawner' }),
      // pre-warmed starts (resources/launcher/); cold start whenever it cannot take a spawn
      launcher: launcherFromConfig(config, log.child({ component: 'launcher' })),
      // memory/CPU limits in force at each start: config + saved overrides, Linux and hub groups
      limitsFor: serverLimitsFor(
        () => quota.policy(),
        (name) => quota.groupsOf(name),
      ),
    });
  const proxy = deps.proxy ?? new HttpProxyClient({ apiUrl: proxyApiUrl(config), token: loadOrCreateProxyToken(config.dataDir) });

  let server: Server | null = null;
  let bound: AddressInfo | null = null;
  let reconciled = false;
  const hubHost = () => (config.hub.ip === '0.0.0.0' || config.hub.ip === '::' ? '127.0.0.1' : config.hub.ip);
  const hubTarget = () => `http://${hubHost()}:${bound!.port}`;
  const hubApiUrl = () => (config.hub.connectUrl ? `${config.hub.connectUrl.replace(/\/+$/, '')}/hub/api` : `${hubTarget()}/hub/api`);

  const servers = new ServerManager({
    config,
    store,
    tokens,
    spawner,
    proxy,
    log,
    hubApiUrl,
    hubTarget,
    lookup,
    watchIntervalMs: deps.watchIntervalMs,
    quota,
  });
  const culler = new IdleCuller({ config: config.culler, store, servers, proxy, log: log.child({ component: 'culler' }) });
  // the Users view's home-usage column shows the quota scanner's figures (one measurement for both)
  const usage = {
    get: (name: string) => store.data.quota.usage[name],
    refresh: () => quota.scan(),
  };
  const backup = createBackupService({ config, store, log, configFile: deps.configFile ?? null, passwd });
  settings.onChange((v) => {
    servers.setConcurrency(v.spawnConcurrency);
    if (v.cullerEnabled && reconciled) culler.start();
  });
  const oauth = new OAuthProvider({ store, tokens, identity, log, tokenLifetimeSeconds: Math.round(config.cookie.maxAgeDays * 86400) });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use((req, res, next) => {
    res.setHeader('X-JupyterHub-Version', JUPYTERHUB_VERSION);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    if (log.isLevelEnabled('debug')) {
      const t0 = process.hrtime.bigint();
      res.on('finish', () =>
        log.debug({ method: req.method, url: req.path, status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }, 'request'),
      );
    }
    next();
  });
  app.use(oauth.router());
  app.use(apiRouter({ store, identity, servers, log, ready: () => reconciled }));
  app.use(usersRouter({ store, identity, servers, tokens, sessions, proxy, lookup, log, spawnerKind: spawner.kind }));
  app.use(tokensRouter({ store, identity, tokens, login, log }));
  app.use(groupsRouter({ store, identity, log }));
  app.use(labhubRouter({ config, store, identity, servers, proxy, settings, usage, passwd, log, startedAt, backup }));
  app.use(backupsRouter({ store, identity, backup, log }));
  app.use(quotaRouter({ config, store, identity, quota, log }));
  app.use(accountsRouter({ config, store, identity, servers, tokens, sessions, passwd, log }));
  // any other /hub/api path is JupyterHub's JSON 404
  app.all('/hub/api/{*rest}', () => {
    throw new HubError('HUB_ERR_NOT_FOUND');
  });
  app.use(adminPagesRouter({ identity }));
  app.use(pagesRouter({ config, store, identity, sessions, login, tokens, servers, log, quota }));
  app.use(() => {
    throw new HubError('HUB_ERR_NOT_FOUND');
  });
  app.use(errorHandler(log, identity));

  return {
    store,
    servers,
    address() {
      if (!bound) throw new Error('hub is not listening');
      return bound;
    },
    async listen() {
      server = createServer({ keepAliveTimeout: 30_000 }, app);
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(config.hub.port, config.hub.ip, () => resolve());
      });
      bound = server.address() as AddressInfo;
      log.info({ address: `${bound.address}:${bound.port}`, dataDir: config.dataDir }, 'hub listening');
      await reconcileWithRetry(servers, log);
      reconciled = true;
      await issueCliToken(store, tokens, config.dataDir, hubTarget(), config.auth.adminGroups[0]);
      servers.startWatching();
      culler.start();
      await quota.start();
      backup.start();
      return bound;
    },
    async close() {
      await culler.close();
      await quota.close();
      await backup.close();
      await servers.close(config.spawner.stopOnShutdown);
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => s.closeAllConnections(), 3000);
          force.unref();
          s.close(() => {
            clearTimeout(force);
            resolve();
          });
          s.closeIdleConnections();
        });
      }
      oauth.close();
      await spawner.close();
      await store.close();
      log.info('hub stopped');
    },
  };
}

/**
 * Reconciles at start; while the proxy's control API is not reachable yet (it is starting, or
 * restarting under systemd) the hub keeps answering its own pages and retries for up to a minute.
 */
async function reconcileWithRetry(servers: ServerManager, log: Logger): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      await servers.reconcile();
      return;
    } catch (err) {
      if (!(err instanceof HubError) || err.code !== 'HUB_ERR_PROXY' || Date.now() > deadline) throw err;
      log.warn({ attempt, reason: err.message }, 'proxy not reachable yet; retrying');
      await new Promise((r) => setTimeout(r, Math.min(250 * attempt, 2000)));
    }
  }
}
