/**
 * Builds the Docker spawner from the config and checks it before the hub starts: the daemon must
 * answer (waiting a while, since at boot the hub may start before Docker), the image must be
 * here (else the hub refuses to start, naming `labhub image build`), and this hub's containers
 * that no recorded server owns are removed, so re-adoption never finds a duplicate.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Account } from '../../auth/accounts.js';
import type { Config } from '../../config.js';
import { HubError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { ServerLimits } from '../../quota/cgroup-values.js';
import type { ServerRecord } from '../../store/state.js';
import { DockerSpawner, parseDockerState } from '../docker.js';

/** Stable per data dir: the label that tells this hub's containers from another hub's. */
export function hubIdFor(dataDir: string): string {
  return createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
}

export function dockerSpawnerFromConfig(config: Readonly<Config>, logger: Logger, limitsFor?: (account: Account) => Promise<ServerLimits>): DockerSpawner {
  const d = config.spawner.docker;
  return new DockerSpawner({
    socketPath: d.socketPath,
    cgroupParent: d.cgroupParent,
    image: d.image,
    network: d.network,
    volumes: d.volumes.map((v) => ({ ...v })),
    environment: { ...config.spawner.environment, ...d.environment },
    path: config.spawner.path,
    cmd: [...config.spawner.cmd],
    args: [...config.spawner.args],
    removeOnStop: d.removeOnStop,
    allowRoot: d.allowRoot,
    pidsLimit: d.pidsLimit,
    stopGraceSeconds: config.spawner.stopGraceSeconds,
    logDir: config.logDir,
    stateDir: join(config.dataDir, 'docker'),
    hubId: hubIdFor(config.dataDir),
    logger,
    limitsFor,
  });
}

/**
 * Start-up validation. A missing image throws (the hub does not start: every spawn would fail);
 * a daemon still down after `waitSeconds` is logged and the hub starts anyway (spawns then say
 * Docker is not running).
 */
export async function prepareDockerSpawner(
  spawner: DockerSpawner,
  servers: Readonly<Record<string, ServerRecord>>,
  log: Logger,
  waitSeconds = 30,
): Promise<void> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      await spawner.ping();
      break;
    } catch (err) {
      if (Date.now() >= deadline) {
        log.error({ reason: (err as Error).message }, 'Docker is not answering; starting anyway, spawns will fail until it is back');
        return;
      }
      if (attempt === 1) log.warn('Docker is not answering yet; waiting for it');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  await spawner.checkImage().catch((err: unknown) => {
    if (err instanceof HubError && err.code === 'HUB_ERR_DOCKER_IMAGE_MISSING') {
      throw new Error(`spawner.docker.image: ${err.message.replace('your server cannot start', 'no server can start')}`);
    }
    throw err;
  });
  const keep = new Set<string>();
  for (const rec of Object.values(servers)) {
    const s = rec.status === 'stopped' || rec.status === 'failed' ? null : parseDockerState(rec.state);
    if (s) keep.add(s.containerId);
  }
  const removed = await spawner.sweep(keep);
  if (removed.length) log.info({ removed }, 'removed containers no recorded server owns');
}

/** The Docker spawner for `createHub`: built from the config and validated (see prepareDockerSpawner). */
export async function startDockerSpawner(
  config: Readonly<Config>,
  servers: Readonly<Record<string, ServerRecord>>,
  log: Logger,
  limitsFor?: (account: Account) => Promise<ServerLimits>,
): Promise<DockerSpawner> {
  const spawner = dockerSpawnerFromConfig(config, log, limitsFor);
  await prepareDockerSpawner(spawner, servers, log);
  log.info({ image: config.spawner.docker.image, network: config.spawner.docker.network }, 'Docker spawner ready');
  return spawner;
}
