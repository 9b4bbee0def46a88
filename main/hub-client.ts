/**
 * The little of the hub's admin API the main process reads itself: the dashboard status
 * (`GET /hub/api/labhub/status`, docs/admin-api.md) for the tray's "who is working" line.
 * The GUI proper talks to the hub from the renderer.
 */
import type { CliCredentials } from '../hub/admin/cli-token.js';

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

/** Fetches the status with the admin token (Authorization header only, never the query). */
export async function fetchHubSummary(creds: CliCredentials, timeoutMs = 5000): Promise<HubSummary> {
  const res = await fetch(new URL('/hub/api/labhub/status', creds.url), {
    headers: { Authorization: `token ${creds.token}`, Accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'manual',
  });
  if (res.status !== 200) {
    const body = (await res.json().catch(() => null)) as { message?: string } | null;
    throw new HubClientError(res.status, `hub status: ${res.status} ${body?.message ?? res.statusText}`);
  }
  const s = (await res.json()) as {
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
