/**
 * `labhub proxy`: config → token → createProxy → listen → proxy.json. Signals are main.ts's;
 * this returns what it must close. Refuses to start a second proxy on a data dir whose proxy is
 * alive, since two would overwrite each other's routes file.
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { isProxyAlive } from './client.js';
import { connectUrl, readProxyInfo, removeProxyInfo, writeProxyInfo, type ProxyInfo } from './proxy-info.js';
import { loadOrCreateProxyToken } from './secret.js';
import { createProxy, type Proxy } from './server.js';

export interface RunningProxy {
  proxy: Proxy;
  info: ProxyInfo;
  /** Removes proxy.json, then closes the proxy (grace period for open requests and websockets). */
  close(): Promise<void>;
}

/** The hub's URL as the proxy's default route, unless the hub port is chosen at run time (0). */
function hubTarget(config: Readonly<Config>): string | undefined {
  if (config.hub.port === 0) return undefined;
  return connectUrl(config.hub.ip, config.hub.port);
}

export async function runProxy(config: Readonly<Config>, logger: Logger): Promise<RunningProxy> {
  const token = loadOrCreateProxyToken(config.dataDir);
  const existing = readProxyInfo(config.dataDir);
  if (existing !== null && (await isProxyAlive(existing))) {
    throw new Error(`a LabHub proxy is already running for ${config.dataDir} (pid ${existing.pid}, ${existing.publicUrl}); stop it first`);
  }
  const proxy = createProxy({
    ip: config.ip,
    port: config.port,
    apiIp: config.proxy.apiIp,
    apiPort: config.proxy.apiPort,
    dataDir: config.dataDir,
    token,
    logger,
    defaultTarget: hubTarget(config),
    tls: config.proxy.tls.cert ? config.proxy.tls : undefined,
    trustedProxies: config.proxy.trustedProxies,
  });
  await proxy.listen();
  const pub = proxy.publicAddress();
  const api = proxy.apiAddress();
  const info: ProxyInfo = {
    pid: process.pid,
    publicUrl: connectUrl(pub.host, pub.port, proxy.scheme),
    apiUrl: connectUrl(api.host, api.port),
    startedAt: new Date().toISOString(),
  };
  try {
    await writeProxyInfo(config.dataDir, info);
  } catch (err) {
    await proxy.close();
    throw err;
  }
  let closing: Promise<void> | null = null;
  return {
    proxy,
    info,
    close(): Promise<void> {
      closing ??= (async () => {
        await removeProxyInfo(config.dataDir, process.pid);
        await proxy.close();
      })();
      return closing;
    },
  };
}
