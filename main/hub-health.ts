/**
 * Is the hub up? `GET <publicUrl>/hub/health` through the proxy answers 200 once the hub has
 * re-adopted its servers and fixed the routes, 503 while it is starting (or from the proxy while
 * the hub is down); no answer means nothing listens there.
 */
import { readProxyInfo } from '../hub/proxy/proxy-info.js';
import { labRequest } from './lab-tls.js';

export type HealthResult = 'ready' | 'starting' | 'down';

/** One health check with a timeout; never throws. `ca`: the lab's own CA when it serves https with one. */
export async function probeHealth(hubUrl: string, timeoutMs = 2000, ca: string | null = null): Promise<HealthResult> {
  try {
    const res = await labRequest(new URL('/hub/health', hubUrl).href, { timeoutMs, ca });
    return res.status === 200 ? 'ready' : 'starting';
  } catch {
    return 'down';
  }
}

/** The hub's public URL: the configured one, else what the running proxy wrote to `<dataDir>/proxy.json`. */
export function resolveHubUrl(dataDir: string, configured?: string | null): string | null {
  if (configured) return configured;
  return readProxyInfo(dataDir)?.publicUrl ?? null;
}
