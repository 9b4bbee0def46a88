/**
 * Memory and CPU limits for local servers: which mechanism this machine offers, and one cgroup per
 * server (`labhub/<user>`) created before the server starts and removed after it stops.
 *
 * - `systemd` (systemd is PID 1 and `systemd-run` exists): a transient scope per server,
 *   `labhub-user-<name>.scope`, with MemoryMax/MemorySwapMax/CPUQuota/TasksMax. Writing into
 *   systemd's cgroup tree behind its back is not allowed (it owns it), hence this path first.
 * - `cgroup-v2` (unified hierarchy at the root, no systemd): `<root>/labhub/<user>` with
 *   memory.max, memory.swap.max = 0, cpu.max, pids.max.
 * - `cgroup-v1` (a hierarchy per controller): `<root>/{memory,cpu,cpuacct,pids}/labhub/<user>` with
 *   memory.limit_in_bytes (+ memsw where swap accounting exists), cpu.cfs_quota_us, pids.max.
 * - `not enforced`: none of these, or the hub is not root; servers run without limits and the GUI
 *   says so.
 */
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { V1_CONTROLLERS, parseOomKills, parseV2CgroupPath, v1Writes, v2Writes, type ServerLimits } from './cgroup-values.js';

export type LimitMechanismName = 'cgroup-v2' | 'cgroup-v1' | 'systemd' | 'not enforced';

export interface LimitMechanism {
  inForce: LimitMechanismName;
  /** One sentence for the admin: why this mechanism (or why none). */
  reason: string;
}

/** Where detection looks; tests point these at a fake tree in a temp folder. */
export interface MechanismProbe {
  cgroupRoot: string;
  /** The name of PID 1 (from /proc/1/comm). */
  pid1?: string;
  /** `systemd-run`, when installed. */
  systemdRun?: string | null;
  isRoot?: boolean;
}

const exists = (p: string) => fs.access(p, constants.F_OK).then(() => true, () => false);

/** Finds `systemd-run` in the usual places; null when absent. */
export async function findSystemdRun(): Promise<string | null> {
  for (const f of ['/usr/bin/systemd-run', '/bin/systemd-run']) if (await fs.access(f, constants.X_OK).then(() => true, () => false)) return f;
  return null;
}

/** Decides the mechanism from what the probe finds (pure apart from reading the fake or real tree). */
export async function detectMechanism(p: MechanismProbe): Promise<LimitMechanism> {
  if (p.isRoot === false) return { inForce: 'not enforced', reason: 'the hub does not run as root, so it cannot create cgroups' };
  if (p.pid1 === 'systemd' && p.systemdRun) {
    return { inForce: 'systemd', reason: 'systemd runs as PID 1: each server gets a transient scope (systemd-run --scope) with MemoryMax and CPUQuota' };
  }
  const controllers = await fs.readFile(join(p.cgroupRoot, 'cgroup.controllers'), 'utf8').catch(() => null);
  if (controllers !== null) {
    const have = controllers.trim().split(/\s+/);
    const missing = ['memory', 'cpu'].filter((c) => !have.includes(c));
    if (missing.length) return { inForce: 'not enforced', reason: `cgroup v2 is mounted but the ${missing.join(' and ')} controller is not available` };
    return { inForce: 'cgroup-v2', reason: `cgroup v2 at ${p.cgroupRoot}: each server gets its own cgroup labhub/<user> with memory.max and cpu.max` };
  }
  if (await exists(join(p.cgroupRoot, 'memory', 'memory.limit_in_bytes'))) {
    if (!(await exists(join(p.cgroupRoot, 'cpu', 'cpu.cfs_quota_us')))) {
      return { inForce: 'not enforced', reason: 'cgroup v1 is mounted but the cpu controller (CFS quota) is not' };
    }
    return { inForce: 'cgroup-v1', reason: `cgroup v1 at ${p.cgroupRoot}: each server gets cgroups labhub/<user> (memory, cpu, cpuacct, pids)` };
  }
  return { inForce: 'not enforced', reason: `no cgroup filesystem with memory and cpu controllers at ${p.cgroupRoot}` };
}

let cached: Promise<LimitMechanism> | null = null;

/** The mechanism on this machine (detected once per process). */
export function limitMechanism(): Promise<LimitMechanism> {
  cached ??= (async () =>
    detectMechanism({
      cgroupRoot: '/sys/fs/cgroup',
      pid1: (await fs.readFile('/proc/1/comm', 'utf8').catch(() => '')).trim(),
      systemdRun: (await exists('/run/systemd/system')) ? await findSystemdRun() : null,
      isRoot: process.getuid?.() === 0,
    }))();
  return cached;
}

/** A server's cgroup as recorded in the spawner state (JSON), so it survives a hub restart. */
export interface ServerCgroup {
  mechanism: 'cgroup-v2' | 'cgroup-v1' | 'systemd';
  /** Directories of the cgroup: one on v2/systemd, one per controller on v1. */
  dirs: string[];
  /** Limits it was created with (for messages). */
  limits: ServerLimits;
  /** The OOM-kill count when the server started (counters survive a re-used cgroup). */
  oomBase: number;
}

/** Reads a recorded cgroup back from state; null when it is not one. */
export function parseServerCgroup(v: unknown): ServerCgroup | null {
  if (!v || typeof v !== 'object') return null;
  const { mechanism, dirs, limits, oomBase } = v as Record<string, unknown>;
  if (mechanism !== 'cgroup-v2' && mechanism !== 'cgroup-v1' && mechanism !== 'systemd') return null;
  if (!Array.isArray(dirs) || !dirs.every((d) => typeof d === 'string' && d.startsWith('/'))) return null;
  const l = (limits ?? {}) as Record<string, unknown>;
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : 0);
  return { mechanism, dirs: dirs as string[], limits: { memory: num(l.memory), cpus: num(l.cpus) }, oomBase: num(oomBase) };
}

async function writeAll(dir: string, writes: { file: string; value: string }[]): Promise<void> {
  for (const w of writes) await fs.writeFile(join(dir, w.file), w.value);
}

/** Enables controllers for children of `dir` on v2 (a no-op for ones already enabled). */
async function enableV2Controllers(dir: string): Promise<void> {
  const have = (await fs.readFile(join(dir, 'cgroup.controllers'), 'utf8').catch(() => '')).trim().split(/\s+/);
  const want = ['memory', 'cpu', 'pids'].filter((c) => have.includes(c));
  if (want.length) await fs.writeFile(join(dir, 'cgroup.subtree_control'), want.map((c) => `+${c}`).join(' '));
}

/**
 * Creates (or re-uses, after a crash) the cgroup `labhub/<user>` under `root` and sets the limits.
 * Returns it and the `cgroup.procs` files the server's pid must be written to before it runs.
 */
export async function createServerCgroup(
  mechanism: 'cgroup-v2' | 'cgroup-v1',
  root: string,
  user: string,
  limits: ServerLimits,
): Promise<{ cgroup: ServerCgroup; procsFiles: string[] }> {
  if (mechanism === 'cgroup-v2') {
    const parent = join(root, 'labhub');
    await fs.mkdir(parent, { recursive: true });
    await enableV2Controllers(root);
    await enableV2Controllers(parent);
    const dir = join(parent, user);
    await fs.mkdir(dir, { recursive: true });
    // memory.swap.max exists only with swap accounting (CONFIG_MEMCG_SWAP); without it there is no swap to limit
    const swapFile = await exists(join(dir, 'memory.swap.max'));
    await writeAll(dir, v2Writes(limits).filter((w) => w.file !== 'memory.swap.max' || swapFile));
    return { cgroup: { mechanism, dirs: [dir], limits, oomBase: 0 }, procsFiles: [join(dir, 'cgroup.procs')] };
  }
  const dirs: string[] = [];
  for (const c of V1_CONTROLLERS) {
    if (!(await exists(join(root, c)))) continue;
    const dir = join(root, c, 'labhub', user);
    await fs.mkdir(dir, { recursive: true });
    dirs.push(dir);
  }
  const dirOf = (controller: string) => dirs.find((d) => d.startsWith(join(root, controller) + '/'));
  const memsw = !!dirOf('memory') && (await exists(join(dirOf('memory')!, 'memory.memsw.limit_in_bytes')));
  for (const w of v1Writes(limits, { memsw })) {
    const dir = dirOf(w.controller);
    if (dir) await fs.writeFile(join(dir, w.file), w.value);
  }
  return { cgroup: { mechanism, dirs, limits, oomBase: 0 }, procsFiles: dirs.map((d) => join(d, 'cgroup.procs')) };
}

/** The memory directory of a cgroup (v1: the one in the memory hierarchy). */
function memoryDir(cg: ServerCgroup): string | undefined {
  return cg.mechanism === 'cgroup-v1' ? cg.dirs.find((d) => /\/memory\/labhub\//.test(d)) : cg.dirs[0];
}

/** How many processes the memory limit has killed in this cgroup so far (null when unreadable). */
export async function readOomKills(cg: ServerCgroup): Promise<number | null> {
  const dir = memoryDir(cg);
  if (!dir) return null;
  const file = cg.mechanism === 'cgroup-v1' ? 'memory.oom_control' : 'memory.events';
  const text = await fs.readFile(join(dir, file), 'utf8').catch(() => null);
  return text === null ? null : parseOomKills(text);
}

/** The scope's cgroup directory of a process started by systemd-run (v2 or hybrid: the `0::` line). */
export async function systemdScopeCgroup(pid: number, limits: ServerLimits, root = '/sys/fs/cgroup'): Promise<ServerCgroup> {
  const rel = parseV2CgroupPath(await fs.readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => ''));
  const base = (await exists(join(root, 'cgroup.controllers'))) ? root : join(root, 'unified');
  return { mechanism: 'systemd', dirs: rel ? [join(base, rel)] : [], limits, oomBase: 0 };
}

/**
 * Removes a server's cgroup once its processes are gone (rmdir only works on an empty cgroup;
 * systemd removes its scopes itself). Processes that are still inside are left alone: the
 * cgroup then stays until the next stop of that user's server.
 */
export async function removeServerCgroup(cg: ServerCgroup): Promise<void> {
  if (cg.mechanism === 'systemd') return;
  for (const dir of cg.dirs) {
    for (let i = 0; i < 20; i++) {
      const err = await fs.rmdir(dir).then(() => null, (e: NodeJS.ErrnoException) => e);
      if (!err || err.code === 'ENOENT') break;
      if (err.code !== 'EBUSY') throw err;
      // the last exiting process may still be leaving the cgroup
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
