/**
 * Pure builders for per-server resource limits: which file gets which value under cgroup v2 and
 * cgroup v1, and the `systemd-run --scope` argv where systemd runs. No I/O here, so every mechanism
 * is unit-tested on any machine (this one only has cgroup v1 for real).
 * Kernel docs: https://docs.kernel.org/admin-guide/cgroup-v2.html and
 * https://docs.kernel.org/admin-guide/cgroup-v1/memory.html; systemd: systemd.resource-control(5).
 */

/** The limits a server runs under; 0 = no limit. */
export interface ServerLimits {
  /** Bytes of memory for the server and all its kernels together. */
  memory: number;
  /** CPU cores (0.5 = half a core). */
  cpus: number;
}

/** One value to write into one cgroup file; `controller` is the v1 hierarchy ('' on v2). */
export interface CgroupWrite {
  controller: string;
  file: string;
  value: string;
}

/** CFS period used for CPU quotas (the kernel's default, 100 ms). */
export const CPU_PERIOD_US = 100_000;
/** Processes/threads per server: stops a fork bomb, far above what Jupyter and kernels use. */
export const PIDS_MAX = 4096;
/** v1 hierarchies a server's process is placed in (each is its own mount on v1). */
export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids'] as const;

/** CPU quota per period in µs for `cpus` cores; at least 1 ms (the kernel's minimum). */
export function cpuQuotaUs(cpus: number, periodUs = CPU_PERIOD_US): number {
  return Math.max(1000, Math.round(cpus * periodUs));
}

/**
 * The writes that set `limits` on a v2 cgroup. Swap is set to 0 so the memory limit is the whole
 * budget (otherwise a student can push gigabytes to swap and slow the machine for everyone).
 */
export function v2Writes(limits: ServerLimits): CgroupWrite[] {
  const w = (file: string, value: string): CgroupWrite => ({ controller: '', file, value });
  return [
    w('memory.max', limits.memory > 0 ? String(limits.memory) : 'max'),
    w('memory.swap.max', limits.memory > 0 ? '0' : 'max'),
    w('cpu.max', limits.cpus > 0 ? `${cpuQuotaUs(limits.cpus)} ${CPU_PERIOD_US}` : `max ${CPU_PERIOD_US}`),
    w('pids.max', String(PIDS_MAX)),
  ];
}

/**
 * The writes that set `limits` on v1 cgroups. `memsw` (memory + swap) exists only when the kernel
 * has swap accounting; it must be written after `limit_in_bytes` (the kernel refuses memsw below
 * it) and is set equal to it, which means "no swap beyond the limit". -1 = unlimited.
 */
export function v1Writes(limits: ServerLimits, o: { memsw: boolean }): CgroupWrite[] {
  const mem = limits.memory > 0 ? String(limits.memory) : '-1';
  const out: CgroupWrite[] = [{ controller: 'memory', file: 'memory.limit_in_bytes', value: mem }];
  if (o.memsw) out.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: mem });
  out.push(
    { controller: 'cpu', file: 'cpu.cfs_period_us', value: String(CPU_PERIOD_US) },
    { controller: 'cpu', file: 'cpu.cfs_quota_us', value: limits.cpus > 0 ? String(cpuQuotaUs(limits.cpus)) : '-1' },
    { controller: 'pids', file: 'pids.max', value: String(PIDS_MAX) },
  );
  return out;
}

/** Name of the systemd scope of a user's server. */
export function scopeUnit(user: string): string {
  return `labhub-user-${user}.scope`;
}

/**
 * `systemd-run` argv that runs `command` in a transient scope with the limits. With `--scope`,
 * systemd-run execs the command itself after placing itself in the scope, so the recorded pid is
 * the server's and the placement is race-free. `--collect` unloads the unit even when it failed.
 */
export function systemdRunArgv(systemdRun: string, user: string, limits: ServerLimits, command: readonly string[]): string[] {
  const props: string[] = [];
  if (limits.memory > 0) props.push(`MemoryMax=${limits.memory}`, 'MemorySwapMax=0');
  if (limits.cpus > 0) props.push(`CPUQuota=${Math.max(1, Math.round(limits.cpus * 100))}%`);
  props.push(`TasksMax=${PIDS_MAX}`);
  return [systemdRun, '--scope', '--quiet', '--collect', '--unit', scopeUnit(user), ...props.flatMap((p) => ['-p', p]), '--', ...command];
}

/**
 * `sh` argv that writes its own pid into each `cgroup.procs` file and then execs `command`: the
 * server is in its cgroups before it runs a single instruction of its own, so nothing it forks
 * can escape. The script is constant; paths and the command are passed as arguments (no user data
 * is ever parsed by the shell). A failed write exits 125 before the command runs.
 */
export function joinCgroupsArgv(procsFiles: readonly string[], command: readonly string[]): string[] {
  const script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';
  return ['/bin/sh', '-c', script, 'sh', ...procsFiles, '--', ...command];
}

/** "2 GB", "300 MB": how a limit is shown to students (binary units, as sizes are parsed). */
export function formatLimit(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/** The OOM-kill count in a v1 `memory.oom_control` or a v2 `memory.events` file (0 when absent). */
export function parseOomKills(text: string): number {
  const m = /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** The cgroup v2 path of a process from its /proc/<pid>/cgroup text (the `0::` line), or null. */
export function parseV2CgroupPath(text: string): string | null {
  const m = /^0::(\/.*)$/m.exec(text);
  return m ? m[1]! : null;
}
