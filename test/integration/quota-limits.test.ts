/**
 * Acceptance 2–4 of issue 6 with the real parts on this machine's cgroup v1: real Linux users (one
 * in a `…teachers` group), the Debian `jupyterhub-singleuser`, real kernels over their websocket,
 * the real cgroup filesystem. The hub API is test/helpers/fake-hub-api.ts and the proxy a stub
 * (routes do not matter here); the ServerManager and store are the real ones, so what the
 * student's home page and the admin's spawn-failure list show is what the hub would show.
 * cgroup v2 and systemd scopes cannot run here: see test/unit/quota/cgroup*.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupAccount, type Account } from '../../hub/auth/accounts.js';
import { parseConfig } from '../../hub/config.js';
import { silentLogger } from '../../hub/log.js';
import { homePage } from '../../hub/pages/templates.js';
import { limitMechanism, parseServerCgroup } from '../../hub/quota/cgroups.js';
import { serverLimitsFor } from '../../hub/quota/limits-for.js';
import type { QuotaPolicyInput } from '../../hub/quota/policy.js';
import { ServerManager } from '../../hub/servers/manager.js';
import { LocalSpawner, parseLocalState } from '../../hub/spawner/local.js';
import { signalProcess } from '../../hub/spawner/proc.js';
import { Store } from '../../hub/store/store.js';
import { TokenStore } from '../../hub/tokens/token-store.js';
import { singleUserHubEnv, startFakeHubApi, type FakeHubApi } from '../helpers/fake-hub-api.js';
import { createTestUser, removeAllTestUsers, removeGroup } from '../helpers/linux-users.js';
import { KernelChannel, serverApi } from '../helpers/jupyter.js';
import { runningRecord } from '../helpers/server-record.js';
import { waitFor } from '../helpers/wait.js';

const MB = 1024 * 1024;
const TEACHERS = 'lhtestteachers';
const CGROOT = '/sys/fs/cgroup';
const START_TIMEOUT_MS = 60_000;

const policy: QuotaPolicyInput = {
  defaults: { memory: 300 * MB, cpus: 0.5 },
  groups: { [TEACHERS]: { memory: 1024 * MB } },
  users: {},
};

let hub: FakeHubApi;
let dataDir: string;
let store: Store;
let manager: ServerManager;
let spawner: LocalSpawner;
const tokens = new Map<string, string>();
const accounts = new Map<string, Account>();
/** Servers started here, stopped in afterAll whatever happened. */
const servers: Array<{ user: string; state: Record<string, unknown> }> = [];
const sockets: WebSocket[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawnerFor(cmd: string[] = ['jupyterhub-singleuser'], args: string[] = []): LocalSpawner {
  return new LocalSpawner({
    logDir: join(dataDir, 'logs'),
    cmd,
    args,
    environment: { JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp' },
    path: '/usr/local/bin:/usr/bin:/bin',
    stopGraceSeconds: 5,
    logger: silentLogger(),
    limitsFor: serverLimitsFor(() => policy),
  });
}

/** Starts a server for `user` and records it in the store as running (what a spawn leaves behind). */
async function startFor(user: string, using = spawner): Promise<{ target: string; state: Record<string, unknown> }> {
  const account = accounts.get(user)!;
  const started = await using.start({ account, env: singleUserHubEnv(user, hub.apiUrl, tokens.get(user)), prefix: `/user/${user}/`, onProgress: () => undefined });
  servers.push({ user, state: started.state });
  store.data.servers[user] = runningRecord(user, 'local', started);
  return started;
}

const api = (target: string, user: string, path: string, init: RequestInit = {}) => serverApi(target, user, tokens.get(user)!, path, init);

async function waitAnswering(target: string, user: string): Promise<void> {
  await waitFor('the server to answer', () => api(target, user, 'status').then((r) => r.status === 200, () => false), START_TIMEOUT_MS, 100);
}

/** A kernel and its websocket, authenticated with the server's API token. */
async function openKernel(target: string, user: string): Promise<{ id: string; run: (code: string, timeoutMs?: number) => Promise<string>; statuses: string[] }> {
  const res = await api(target, user, 'kernels', { method: 'POST', body: JSON.stringify({ name: 'python3' }) });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { id: string }).id;
  const ch = await KernelChannel.connect(`${target.replace(/^http/, 'ws')}/user/${user}/api/kernels/${id}/channels`, { authorization: `token ${tokens.get(user)}` });
  sockets.push(ch.ws);
  return { id, run: (code: string, timeoutMs?: number) => ch.execute(code, timeoutMs), statuses: ch.statuses };
}

const cg = (controller: string, user: string, file = '') => join(CGROOT, controller, 'labhub', user, file);
const read = (file: string) => readFileSync(file, 'utf8').trim();

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root (real users, cgroups)');
  const mechanism = await limitMechanism();
  if (mechanism.inForce !== 'cgroup-v1') throw new Error(`this test verifies cgroup v1 for real; this machine has: ${mechanism.inForce} (${mechanism.reason})`);
  dataDir = mkdtempSync(join(tmpdir(), 'labhub-limits-'));
  const users = [createTestUser('qlmem'), createTestUser('qlother'), createTestUser('qlteach', { groups: [TEACHERS] })];
  policy.users[users[1]!.name] = { memory: 0, cpus: 0 }; // the other student: no limits
  for (const u of users) {
    tokens.set(u.name, randomUUID().replace(/-/g, ''));
    const account = await lookupAccount(u.name);
    if (!account) throw new Error(`test user ${u.name} not found`);
    accounts.set(u.name, account);
  }
  hub = await startFakeHubApi({ users: Object.fromEntries([...tokens].map(([name, t]) => [t, { name, scopes: [`access:servers!server=${name}/`] }])) });
  store = await Store.open(dataDir);
  spawner = spawnerFor();
  manager = new ServerManager({
    config: parseConfig({ dataDir }),
    store,
    tokens: new TokenStore(store),
    spawner,
    proxy: { getRoutes: async () => ({}), addRoute: async () => undefined, deleteRoute: async () => undefined },
    log: silentLogger(),
    hubApiUrl: () => hub.apiUrl,
    hubTarget: () => hub.origin,
  });
});

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await manager?.close();
  for (const s of servers) await spawner.stop(s.user, s.state).catch(() => undefined);
  // whatever is left: processes in our cgroups, then the cgroups themselves
  for (const c of ['memory', 'cpu', 'cpuacct', 'pids']) {
    const parent = join(CGROOT, c, 'labhub');
    for (const name of existsSync(parent) ? readdirSync(parent).filter((n) => n.startsWith('lhtest')) : []) {
      const procs = existsSync(join(parent, name, 'cgroup.procs')) ? read(join(parent, name, 'cgroup.procs')).split('\n').filter(Boolean) : [];
      for (const pid of procs) signalProcess(Number(pid), 'SIGKILL');
      await sleep(procs.length ? 200 : 0);
      try {
        rmdirSync(join(parent, name));
      } catch {
        // still busy: reported by the test that left it
      }
    }
    try {
      rmdirSync(parent);
    } catch {
      // in use by a running hub, or already gone
    }
  }
  await spawner?.close();
  await hub?.close();
  removeAllTestUsers();
  removeGroup(TEACHERS);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('memory and CPU limits on local servers (cgroup v1, real)', () => {
  let memTarget = '';
  let otherTarget = '';
  const mem = () => [...accounts.keys()][0]!;
  const other = () => [...accounts.keys()][1]!;
  const teacher = () => [...accounts.keys()][2]!;

  it('a cell allocating past 300 MB is killed, the student and the admin are told, another student is unaffected', async () => {
    const a = await startFor(mem());
    const b = await startFor(other());
    memTarget = a.target;
    otherTarget = b.target;
    // placed in its cgroups before it ran: the server and the limits
    const state = parseLocalState(a.state)!;
    expect(read(cg('memory', mem(), 'cgroup.procs')).split('\n')).toContain(String(state.pid));
    expect(read(cg('cpu', mem(), 'cgroup.procs')).split('\n')).toContain(String(state.pid));
    expect(Number(read(cg('memory', mem(), 'memory.limit_in_bytes')))).toBe(300 * MB);
    expect(Number(read(cg('memory', mem(), 'memory.memsw.limit_in_bytes')))).toBe(300 * MB);
    expect(parseServerCgroup(a.state.cgroup)?.dirs).toContain(cg('memory', mem()));
    await Promise.all([waitAnswering(a.target, mem()), waitAnswering(b.target, other())]);

    const [k1, k2] = await Promise.all([openKernel(a.target, mem()), openKernel(b.target, other())]);
    expect((await k1.run('print(1 + 1)')).trim()).toBe('2');
    // the kernel inherits the cgroup
    expect(await k1.run('print(open("/proc/self/cgroup").read())')).toContain(`memory:/labhub/${mem()}`);

    void k1.run('x = bytearray(600 * 1024 * 1024)\nprint("survived")', 60_000).catch(() => undefined);
    await waitFor('the OOM killer to act', () => /oom_kill [1-9]/.test(read(cg('memory', mem(), 'memory.oom_control'))), 30_000);
    await waitFor('the kernel to be restarted', () => k1.statuses.includes('restarting') || k1.statuses.includes('dead'), 30_000);

    // the server itself is still up; the hub notices on its next check and tells both
    expect(await manager.check(mem())).toBe(true);
    const rec = store.data.servers[mem()]!;
    expect(rec.notice).toContain('Your kernel ran out of memory (limit 300 MB)');
    expect(homePage({ user: mem(), rec, pending: false, xsrf: 'x' })).toContain('Your kernel ran out of memory (limit 300 MB)');
    expect(store.data.spawnFailures.filter((f) => f.user === mem()).map((f) => f.reason)).toEqual([rec.notice]);
    // reported once, not on every check
    expect(await manager.check(mem())).toBe(true);
    expect(store.data.spawnFailures.filter((f) => f.user === mem())).toHaveLength(1);

    // the other student's server and kernel carry on
    expect(await manager.check(other())).toBe(true);
    expect(store.data.servers[other()]!.notice).toBeUndefined();
    expect((await k2.run('y = bytearray(400 * 1024 * 1024)\nprint(len(y) // (1024 * 1024))', 60_000)).trim()).toBe('400');
    expect(read(cg('memory', other(), 'memory.oom_control'))).toMatch(/oom_kill 0/);
  }, 180_000);

  it('a busy loop under a 0.5 CPU limit gets at most its share (cpuacct.usage)', async () => {
    expect(Number(read(cg('cpu', mem(), 'cpu.cfs_quota_us')))).toBe(50_000);
    expect(Number(read(cg('cpu', mem(), 'cpu.cfs_period_us')))).toBe(100_000);
    const k = await openKernel(memTarget, mem());
    const loop = k.run('import time\nt = time.time()\nwhile time.time() - t < 8: pass\nprint("done")', 60_000);
    await sleep(2_000);
    const u0 = Number(read(cg('cpuacct', mem(), 'cpuacct.usage')));
    const t0 = process.hrtime.bigint();
    await sleep(4_000);
    const u1 = Number(read(cg('cpuacct', mem(), 'cpuacct.usage')));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const rate = (u1 - u0) / 1e9 / seconds;
    console.log(`[measure] busy loop under cpus=0.5: ${rate.toFixed(3)} CPU-s per s over ${seconds.toFixed(1)} s`);
    expect(rate).toBeLessThanOrEqual(0.6);
    expect(rate).toBeGreaterThan(0.3); // it did run, throttled rather than starved
    expect((await loop).trim()).toBe('done');
    // the unlimited student's cgroup has no quota, and its server still answers
    expect(read(cg('cpu', other(), 'cpu.cfs_quota_us'))).toBe('-1');
    expect((await api(otherTarget, other(), 'status')).status).toBe(200);
  }, 60_000);

  it('an instructor in the teachers group gets the larger memory limit; the cgroup survives a hub restart and goes with the server', async () => {
    const t = await startFor(teacher());
    expect(Number(read(cg('memory', teacher(), 'memory.limit_in_bytes')))).toBe(1024 * MB);
    expect(Number(read(cg('cpu', teacher(), 'cpu.cfs_quota_us')))).toBe(50_000); // cpus from the default
    await waitAnswering(t.target, teacher());
    // after a hub restart: a fresh spawner with the state from the store stops it and removes the cgroups
    const restarted = spawnerFor();
    const persisted = JSON.parse(JSON.stringify(t.state)) as Record<string, unknown>;
    expect(await restarted.poll(teacher(), persisted)).toEqual({ running: true });
    await restarted.stop(teacher(), persisted);
    for (const c of ['memory', 'cpu', 'cpuacct', 'pids']) expect(existsSync(cg(c, teacher()))).toBe(false);
    await restarted.close();
  }, 90_000);

  it('a server killed whole by the memory limit: the not-running reason names the limit; its cgroup is removed', async () => {
    const user = teacher();
    policy.users[user] = { memory: 200 * MB };
    // the "server" is python allocating past the limit a second after it started
    const small = spawnerFor(['/usr/bin/python3'], ['-c', 'import time\ntime.sleep(1)\nx = bytearray(600 * 1024 * 1024)\ntime.sleep(60)']);
    const started = await startFor(user, small);
    const pid = parseLocalState(started.state)!.pid;
    await waitFor('the OOM killer to kill the server', () => /oom_kill [1-9]/.test(read(cg('memory', user, 'memory.oom_control'))), 20_000);
    await waitFor('the process to be gone', () => !existsSync(`/proc/${pid}`) || /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), 10_000);
    expect(await manager.check(user)).toBe(false);
    const rec = store.data.servers[user]!;
    expect(rec.status).toBe('stopped');
    expect(rec.stopReason).toContain('Your server stopped unexpectedly: it ran out of memory (limit 200 MB)');
    expect(store.data.spawnFailures.find((f) => f.user === user)?.reason).toBe(rec.stopReason);
    for (const c of ['memory', 'cpu', 'cpuacct', 'pids']) expect(existsSync(cg(c, user))).toBe(false);
    await small.close();
  }, 60_000);
});
