/**
 * Turns what dockerode throws into the messages students and admins read: Docker not running,
 * the image missing (with the build command), the port taken, anything else with Docker's own words.
 */
import { HubError } from '../../errors.js';
import { BUILD_COMMAND } from './image.js';

interface DockerLikeError {
  code?: string;
  statusCode?: number;
  reason?: string;
  json?: { message?: string } | null;
  message?: string;
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);

/** Is this the daemon not answering at all (rather than answering with an error)? */
export function isDaemonUnreachable(err: unknown): boolean {
  const e = err as DockerLikeError;
  if (e?.code && CONNECT_CODES.has(e.code)) return true;
  return /socket hang up|timeout|connect E/i.test(e?.message ?? '') && e?.statusCode === undefined;
}

/** Docker's own text for an HTTP error from the daemon. */
export function dockerMessage(err: unknown): string {
  const e = err as DockerLikeError;
  const text = e?.json?.message ?? (typeof e?.json === 'string' ? (e.json as string) : undefined) ?? e?.reason ?? e?.message ?? String(err);
  return text.replace(/^\(HTTP code \d+\)\s*/, '').replace(/\s+$/, '');
}

export function statusOf(err: unknown): number | undefined {
  return (err as DockerLikeError)?.statusCode;
}

export function daemonDown(where: string, cause?: unknown): HubError {
  return new HubError(
    'HUB_ERR_DOCKER_UNAVAILABLE',
    `Docker is not running on the LabHub server (no answer from ${where}), so servers cannot be started or checked. The lab admin must start it (systemctl start docker, or scripts/docker-up.sh); running servers are picked up again when it is back.`,
    cause ? { cause } : undefined,
  );
}

export function imageMissing(image: string): HubError {
  return new HubError(
    'HUB_ERR_DOCKER_IMAGE_MISSING',
    `The server image ${image} is not on the LabHub server, so your server cannot start. The lab admin must build it once with: ${BUILD_COMMAND}`,
  );
}

/** A start refused because the host port is taken (bridge networks; on the host network the server says so in its log). */
export function isPortInUse(err: unknown): boolean {
  return /port is already allocated|address already in use/i.test(dockerMessage(err));
}

/** Any other Docker failure during a spawn, with Docker's words. */
export function spawnError(what: string, err: unknown, where: string): HubError {
  if (err instanceof HubError) return err;
  if (isDaemonUnreachable(err)) return daemonDown(where, err);
  return new HubError('HUB_ERR_SPAWN_FAILED', `${what}: ${dockerMessage(err)}`, { cause: err });
}
