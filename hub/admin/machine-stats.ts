/**
 * CPU, memory and disk figures of the machine for the admin dashboard, from `systeminformation`.
 * The module is loaded on first use (it is large, and a hub nobody watches should not carry it),
 * and a reading is shared for two seconds so several open dashboards cost one measurement.
 */
import { hostname, loadavg, availableParallelism } from 'node:os';

export interface DiskStats {
  mount: string;
  fs: string;
  size: number;
  used: number;
  available: number;
  percent: number | null;
}

export interface MachineStats {
  hostname: string;
  cores: number;
  cpuPercent: number | null;
  load: number[];
  memory: { total: number; used: number; available: number } | null;
  disks: DiskStats[];
  /** The filesystem holding the students' homes. */
  homeDisk: DiskStats | null;
}

type SI = typeof import('systeminformation');
let si: Promise<SI> | null = null;
let cached: { at: number; value: Promise<MachineStats> } | null = null;

/** Pseudo filesystems that say nothing about space a lab can run out of. */
const SKIP_FS = /^(tmpfs|devtmpfs|overlay|squashfs|proc|sysfs|cgroup2?|nsfs|shm|efivarfs)$/;

/** The disk whose mount point is the longest prefix of `path`. */
export function diskFor(disks: readonly DiskStats[], path: string): DiskStats | null {
  let best: DiskStats | null = null;
  for (const d of disks) {
    const prefix = d.mount.endsWith('/') ? d.mount : `${d.mount}/`;
    if ((path === d.mount || `${path}/`.startsWith(prefix)) && (!best || d.mount.length > best.mount.length)) best = d;
  }
  return best;
}

async function measure(homeRoot: string): Promise<MachineStats> {
  si ??= import('systeminformation').then((m) => ((m as { default?: SI }).default ?? m) as SI);
  const lib = await si;
  const [load, mem, fsList] = await Promise.all([
    lib.currentLoad().catch(() => null),
    lib.mem().catch(() => null),
    lib.fsSize().catch(() => []),
  ]);
  const disks: DiskStats[] = [];
  const seen = new Set<string>();
  for (const f of fsList) {
    if (!f.mount || SKIP_FS.test(f.type) || seen.has(f.mount) || !(f.size > 0)) continue;
    seen.add(f.mount);
    disks.push({
      mount: f.mount,
      fs: f.fs,
      size: f.size,
      used: f.used,
      available: f.available,
      percent: Number.isFinite(f.use) ? Math.round(f.use * 10) / 10 : null,
    });
  }
  disks.sort((a, b) => a.mount.localeCompare(b.mount));
  return {
    hostname: hostname(),
    cores: availableParallelism(),
    cpuPercent: load && Number.isFinite(load.currentLoad) ? Math.round(load.currentLoad * 10) / 10 : null,
    load: loadavg().map((l) => Math.round(l * 100) / 100),
    memory: mem ? { total: mem.total, used: mem.total - mem.available, available: mem.available } : null,
    disks,
    homeDisk: diskFor(disks, homeRoot),
  };
}

/** The machine's figures now (at most two seconds old). */
export function machineStats(homeRoot = '/home'): Promise<MachineStats> {
  const now = Date.now();
  if (!cached || now - cached.at > 2000) {
    const value = measure(homeRoot);
    cached = { at: now, value };
    value.catch(() => {
      if (cached?.value === value) cached = null;
    });
  }
  return cached.value;
}
