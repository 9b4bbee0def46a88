import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createServerCgroup, detectMechanism, parseServerCgroup, readOomKills, removeServerCgroup } from '../../../hub/quota/cgroups.js';

const MB = 1024 * 1024;
const roots: string[] = [];
function fakeRoot(files: Record<string, string> = {}, dirs: string[] = []): string {
  const root = mkdtempSync(join(tmpdir(), 'labhub-cg-'));
  roots.push(root);
  for (const d of dirs) mkdirSync(join(root, d), { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), text);
  }
  return root;
}
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe('limit mechanism detection (fake cgroup roots in a temp folder)', () => {
  it('systemd as PID 1 with systemd-run wins', async () => {
    const root = fakeRoot({ 'cgroup.controllers': 'cpu memory pids' });
    expect((await detectMechanism({ cgroupRoot: root, pid1: 'systemd', systemdRun: '/usr/bin/systemd-run', isRoot: true })).inForce).toBe('systemd');
  });
  it('cgroup v2 when the unified hierarchy has memory and cpu', async () => {
    const root = fakeRoot({ 'cgroup.controllers': 'cpuset cpu io memory pids' });
    expect((await detectMechanism({ cgroupRoot: root, pid1: 'init', systemdRun: null, isRoot: true })).inForce).toBe('cgroup-v2');
  });
  it('not enforced on v2 without the memory controller, saying which is missing', async () => {
    const root = fakeRoot({ 'cgroup.controllers': 'cpu pids' });
    const m = await detectMechanism({ cgroupRoot: root, isRoot: true });
    expect(m).toMatchObject({ inForce: 'not enforced' });
    expect(m.reason).toContain('memory');
  });
  it('cgroup v1 with memory and cpu hierarchies (also with systemd-run absent)', async () => {
    const root = fakeRoot({ 'memory/memory.limit_in_bytes': '9223372036854771712', 'cpu/cpu.cfs_quota_us': '-1' });
    expect((await detectMechanism({ cgroupRoot: root, pid1: 'systemd', systemdRun: null, isRoot: true })).inForce).toBe('cgroup-v1');
  });
  it('not enforced when not root or nothing is mounted', async () => {
    expect((await detectMechanism({ cgroupRoot: fakeRoot(), isRoot: true })).inForce).toBe('not enforced');
    const v1 = fakeRoot({ 'memory/memory.limit_in_bytes': '0', 'cpu/cpu.cfs_quota_us': '-1' });
    expect((await detectMechanism({ cgroupRoot: v1, isRoot: false })).reason).toContain('root');
  });
});

describe('server cgroups on fake roots (v2 only on paper here; v1 also for real in test/integration/quota-limits)', () => {
  it('v2: creates labhub/<user>, enables controllers, writes the limits and memory.swap.max where it exists', async () => {
    const root = fakeRoot({ 'cgroup.controllers': 'cpu memory pids', 'labhub/cgroup.controllers': 'cpu memory pids', 'labhub/lhu/memory.swap.max': 'max' });
    const { cgroup, procsFiles } = await createServerCgroup('cgroup-v2', root, 'lhu', { memory: 300 * MB, cpus: 0.5 });
    const dir = join(root, 'labhub', 'lhu');
    expect(cgroup).toEqual({ mechanism: 'cgroup-v2', dirs: [dir], limits: { memory: 300 * MB, cpus: 0.5 }, oomBase: 0 });
    expect(procsFiles).toEqual([join(dir, 'cgroup.procs')]);
    expect(readFileSync(join(root, 'cgroup.subtree_control'), 'utf8')).toBe('+memory +cpu +pids');
    expect(readFileSync(join(root, 'labhub', 'cgroup.subtree_control'), 'utf8')).toBe('+memory +cpu +pids');
    expect(readFileSync(join(dir, 'memory.max'), 'utf8')).toBe(String(300 * MB));
    expect(readFileSync(join(dir, 'memory.swap.max'), 'utf8')).toBe('0');
    expect(readFileSync(join(dir, 'cpu.max'), 'utf8')).toBe('50000 100000');
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n');
    expect(await readOomKills(cgroup)).toBe(1);
  });

  it('v1: one cgroup per hierarchy, memsw only where it exists; state round-trips; removal', async () => {
    const root = fakeRoot({ 'memory/labhub/lhu/memory.memsw.limit_in_bytes': '-1' }, ['cpu', 'cpuacct', 'pids']);
    const { cgroup, procsFiles } = await createServerCgroup('cgroup-v1', root, 'lhu', { memory: 300 * MB, cpus: 0.5 });
    expect(cgroup.dirs).toEqual(['memory', 'cpu', 'cpuacct', 'pids'].map((c) => join(root, c, 'labhub', 'lhu')));
    expect(procsFiles).toHaveLength(4);
    const mem = join(root, 'memory', 'labhub', 'lhu');
    expect(readFileSync(join(mem, 'memory.limit_in_bytes'), 'utf8')).toBe(String(300 * MB));
    expect(readFileSync(join(mem, 'memory.memsw.limit_in_bytes'), 'utf8')).toBe(String(300 * MB));
    expect(readFileSync(join(root, 'cpu', 'labhub', 'lhu', 'cpu.cfs_quota_us'), 'utf8')).toBe('50000');
    expect(parseServerCgroup(JSON.parse(JSON.stringify(cgroup)))).toEqual(cgroup);
    expect(parseServerCgroup({ mechanism: 'cgroup-v1', dirs: ['relative'] })).toBeNull();
    // a fake dir has files in it, so rmdir fails; on a real cgroup the files are virtual
    rmSync(mem, { recursive: true });
    mkdirSync(mem);
    for (const c of ['cpu', 'cpuacct', 'pids']) rmSync(join(root, c, 'labhub', 'lhu'), { recursive: true });
    for (const c of ['cpu', 'cpuacct', 'pids']) mkdirSync(join(root, c, 'labhub', 'lhu'));
    await removeServerCgroup(cgroup);
    expect(existsSync(mem)).toBe(false);
  });
});
