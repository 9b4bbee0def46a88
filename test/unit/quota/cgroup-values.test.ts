import { describe, expect, it } from 'vitest';
import {
  cpuQuotaUs,
  formatLimit,
  joinCgroupsArgv,
  parseOomKills,
  parseV2CgroupPath,
  systemdRunArgv,
  v1Writes,
  v2Writes,
} from '../../../hub/quota/cgroup-values.js';

const MB = 1024 * 1024;

describe('cgroup values (pure; v2 and systemd verified only on paper here, v1 also for real)', () => {
  it('cgroup v2: memory.max, no swap, cpu.max as quota and period, pids.max', () => {
    expect(v2Writes({ memory: 300 * MB, cpus: 0.5 })).toEqual([
      { controller: '', file: 'memory.max', value: String(300 * MB) },
      { controller: '', file: 'memory.swap.max', value: '0' },
      { controller: '', file: 'cpu.max', value: '50000 100000' },
      { controller: '', file: 'pids.max', value: '4096' },
    ]);
    expect(v2Writes({ memory: 0, cpus: 0 }).map((w) => w.value)).toEqual(['max', 'max', 'max 100000', '4096']);
  });

  it('cgroup v1: limit_in_bytes before memsw (same value), CFS quota, -1 for no limit', () => {
    expect(v1Writes({ memory: 2048 * MB, cpus: 2 }, { memsw: true })).toEqual([
      { controller: 'memory', file: 'memory.limit_in_bytes', value: String(2048 * MB) },
      { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(2048 * MB) },
      { controller: 'cpu', file: 'cpu.cfs_period_us', value: '100000' },
      { controller: 'cpu', file: 'cpu.cfs_quota_us', value: '200000' },
      { controller: 'pids', file: 'pids.max', value: '4096' },
    ]);
    const none = v1Writes({ memory: 0, cpus: 0 }, { memsw: false });
    expect(none.map((w) => w.file)).not.toContain('memory.memsw.limit_in_bytes');
    expect(none.find((w) => w.file === 'memory.limit_in_bytes')?.value).toBe('-1');
    expect(none.find((w) => w.file === 'cpu.cfs_quota_us')?.value).toBe('-1');
  });

  it('CPU quota has the kernel minimum of 1 ms', () => {
    expect(cpuQuotaUs(0.001)).toBe(1000);
    expect(cpuQuotaUs(1.5)).toBe(150_000);
  });

  it('systemd: a transient scope named after the user, limits as properties, command after --', () => {
    const argv = systemdRunArgv('/usr/bin/systemd-run', 'alice', { memory: 2048 * MB, cpus: 0.5 }, ['/usr/bin/setpriv', '--reuid', '1001']);
    expect(argv).toEqual([
      '/usr/bin/systemd-run', '--scope', '--quiet', '--collect', '--unit', 'labhub-user-alice.scope',
      '-p', `MemoryMax=${2048 * MB}`, '-p', 'MemorySwapMax=0', '-p', 'CPUQuota=50%', '-p', 'TasksMax=4096',
      '--', '/usr/bin/setpriv', '--reuid', '1001',
    ]);
    expect(systemdRunArgv('/bin/systemd-run', 'bob', { memory: 0, cpus: 0 }, ['x'])).not.toContain('-p MemoryMax');
  });

  it('the join wrapper passes paths and command as arguments to a constant script', () => {
    const argv = joinCgroupsArgv(['/a/cgroup.procs', '/b/cgroup.procs'], ['setpriv', '--', 'x; rm -rf /']);
    expect(argv.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(argv[2]).not.toContain('cgroup.procs');
    expect(argv.slice(3)).toEqual(['sh', '/a/cgroup.procs', '/b/cgroup.procs', '--', 'setpriv', '--', 'x; rm -rf /']);
  });

  it('reads OOM-kill counters (v1 memory.oom_control, v2 memory.events) and v2 paths from /proc/<pid>/cgroup', () => {
    expect(parseOomKills('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n')).toBe(3);
    expect(parseOomKills('low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n')).toBe(1);
    expect(parseOomKills('oom_kill_disable 0\nunder_oom 0\n')).toBe(0);
    expect(parseV2CgroupPath('1:name=systemd:/x\n0::/system.slice/labhub-user-alice.scope\n')).toBe('/system.slice/labhub-user-alice.scope');
    expect(parseV2CgroupPath('4:memory:/a\n')).toBeNull();
  });

  it('formats limits in binary units', () => {
    expect(formatLimit(2 * 1024 * MB)).toBe('2 GB');
    expect(formatLimit(300 * MB)).toBe('300 MB');
    expect(formatLimit(1.5 * 1024 * MB)).toBe('1.5 GB');
  });
});
