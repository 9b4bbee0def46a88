/**
 * What a student's container is created with, as one pure function so every security decision is
 * visible in one place (and unit-tested): the student's uid:gid and supplementary groups, only
 * their own home bind-mounted (at the same path), extra volumes read-only unless said otherwise,
 * no capabilities and no privilege gain unless root is allowed, the port on 127.0.0.1 only,
 * memory/CPU/pids limits, labels for re-adoption.
 *
 * dockerode facts this relies on (measured): `HostPort` must be a string, `NanoCpus` an integer,
 * `ExposedPorts` must list a bound port or the binding is silently dropped; `Mounts` of type
 * `bind` fail on a missing source instead of creating it owned by root (which `Binds` does).
 */
import type { ContainerCreateOptions } from 'dockerode';
import type { Account } from '../../auth/accounts.js';
import type { ServerLimits } from '../../quota/cgroup-values.js';

export const LABEL_MANAGED = 'org.labhub.managed';
export const LABEL_USER = 'org.labhub.user';
export const LABEL_HUB = 'org.labhub.hub';
/** The port inside the container on a bridge network. */
export const CONTAINER_PORT = 8888;

export interface DockerVolume {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface ContainerSpecInput {
  account: Account;
  image: string;
  /** `host`, `bridge` or the name of a user-defined network. */
  network: string;
  /** Host port the server is reached on (127.0.0.1). */
  port: number;
  argv: string[];
  env: Record<string, string>;
  volumes: readonly DockerVolume[];
  limits: ServerLimits;
  pidsLimit: number;
  stopGraceSeconds: number;
  allowRoot: boolean;
  /** Identifies the hub (its data dir) so two hubs on one Docker never touch each other's containers. */
  hubId: string;
  /** Parent cgroup (`HostConfig.CgroupParent`); empty = Docker's default. */
  cgroupParent?: string;
  /** Generated passwd/group files mounted read-only at /etc/passwd and /etc/group (names in shells and `id`). */
  identityFiles?: { passwd: string; group: string };
}

/** `labhub-<user>`: one container per student, so a second one can never exist by accident. */
export function containerName(user: string): string {
  return `labhub-${user}`;
}

/** Is the network the host's own (the server then listens on 127.0.0.1:<port> itself)? */
export function isHostNetwork(network: string): boolean {
  return network === 'host';
}

/** The JUPYTERHUB_SERVICE_URL the server binds: loopback on the host network, all interfaces inside a bridge. */
export function serviceUrl(network: string, port: number, prefix: string): string {
  return isHostNetwork(network) ? `http://127.0.0.1:${port}${prefix}` : `http://0.0.0.0:${CONTAINER_PORT}${prefix}`;
}

export function containerSpec(i: ContainerSpecInput): ContainerCreateOptions {
  const { account } = i;
  const host = isHostNetwork(i.network);
  const mounts = [
    { Type: 'bind' as const, Source: account.home, Target: account.home, ReadOnly: false },
    ...i.volumes.map((v) => ({ Type: 'bind' as const, Source: v.source, Target: v.target, ReadOnly: v.readOnly })),
  ];
  if (i.identityFiles) {
    mounts.push({ Type: 'bind', Source: i.identityFiles.passwd, Target: '/etc/passwd', ReadOnly: true });
    mounts.push({ Type: 'bind', Source: i.identityFiles.group, Target: '/etc/group', ReadOnly: true });
  }
  const portKey = `${CONTAINER_PORT}/tcp`;
  const memory = Math.max(0, Math.round(i.limits.memory));
  return {
    name: containerName(account.name),
    Image: i.image,
    Cmd: i.argv,
    Env: Object.entries(i.env).map(([k, v]) => `${k}=${v}`),
    User: `${account.uid}:${account.gid}`,
    WorkingDir: account.home,
    Labels: { [LABEL_MANAGED]: 'true', [LABEL_USER]: account.name, [LABEL_HUB]: i.hubId },
    // jupyterhub-singleuser stops cleanly on SIGINT (spec §1.2); docker sends SIGKILL after the grace
    StopSignal: 'SIGINT',
    StopTimeout: Math.ceil(i.stopGraceSeconds),
    ...(host ? {} : { ExposedPorts: { [portKey]: {} } }),
    HostConfig: {
      NetworkMode: i.network,
      ...(host ? {} : { PortBindings: { [portKey]: [{ HostIp: '127.0.0.1', HostPort: String(i.port) }] } }),
      Mounts: mounts,
      // supplementary groups: Docker sets only the primary gid from `User`
      GroupAdd: account.groups.filter((g) => g !== account.gid).map(String),
      Memory: memory,
      // swap equal to memory = no swap on top of the limit, so a runaway cell is killed, not swapped
      MemorySwap: memory > 0 ? memory : 0,
      NanoCpus: i.limits.cpus > 0 ? Math.round(i.limits.cpus * 1e9) : 0,
      PidsLimit: i.pidsLimit > 0 ? i.pidsLimit : 0,
      // tini as PID 1 reaps orphaned kernels and forwards the stop signal
      Init: true,
      CapDrop: i.allowRoot ? [] : ['ALL'],
      SecurityOpt: i.allowRoot ? [] : ['no-new-privileges'],
      RestartPolicy: { Name: 'no' },
      ...(i.cgroupParent ? { CgroupParent: i.cgroupParent } : {}),
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
    },
  };
}
