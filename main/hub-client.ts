/**
 * The little of the hub's admin API the main process reads itself: the dashboard status
 * (`GET /hub/api/labhub/status`, docs/admin-api.md) for the tray's "who is working" line.
 * The GUI proper talks to the hub from the renderer.
 */
import type { CliCredentials } from '../hub/admin/cli-token.js';
import { labRequest } from './lab-tls.js';

/** The tray's figures. */
export interface HubSummary {
  version: string;
  users: { total: number; online: number };
  servers: { running: number; starting: number; queued: number };
}

/** The hub answered, but not with 200 (e.g. 403: the token is stale after a hub restart). */
export class HubClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HubClientError';
  }
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Fetches the status with the admin token (Authorization header only, never the query). `ca`: the lab's own CA, if any. */
export async function fetchHubSummary(creds: CliCredentials, timeoutMs = 5000, ca: string | null = null): Promise<HubSummary> {
  const res = await labRequest(new URL('/hub/api/labhub/status', creds.url).href, {
    headers: { Authorization: `token ${creds.token}`, Accept: 'application/json' },
    timeoutMs,
    ca,
  });
  const json = (): unknown => {
    try {
      return JSON.parse(res.body);
    } catch {
      return null;
    }
  };
  if (res.status !== 200) {
    const body = json() as { message?: string } | null;
    throw new HubClientError(res.status, `hub status: ${res.status} ${body?.message ?? ''}`.trim());
  }
  const s = (json() ?? {}) as {
    hub?: { version?: string };
    users?: Record<string, unknown>;
    servers?: Record<string, unknown>;
  };
  return {
    version: typeof s.hub?.version === 'string' ? s.hub.version : 'unknown',
    users: { total: num(s.users?.total), online: num(s.users?.online) },
    servers: { running: num(s.servers?.running), starting: num(s.servers?.starting), queued: num(s.servers?.queued) },
  };
}
