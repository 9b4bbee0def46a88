/**
 * Memory/CPU limits through the whole hub (issue 6, acceptance 2 and 4 end to end): the real
 * `labhub serve` with limits in its config, real PAM users logging in, servers started from the
 * hub page. The server runs inside its own cgroup with the configured limits (the teachers' group
 * gets more), a cell allocating past the limit is killed by the kernel, the student's home page
 * says so while the server keeps running, and another student's kernel keeps its state.
 * The engine-level details (CPU share measured from cpuacct, whole-server OOM) are in
 * quota-limits.test.ts; this file checks that the hub wires them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../helpers/browserless-client.js';
import { KernelChannel, openServer, startKernel, startServer } from '../helpers/jupyter.js';
import { LABHUB_MAIN, LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, ensureGroup, removeGroup, removeTestUser, type TestUser } from '../helpers/linux-users.js';

const TEACHERS = 'lhtestqhteach';
const M = 2 ** 20;
let lab: LabhubProcess;
let student: TestUser;
let other: TestUser;
let teacher: TestUser;
const channels: KernelChannel[] = [];

/** The server's memory cgroup (v1 path relative to the memory hierarchy) from /proc/<pid>/cgroup. */
function memoryCgroupOf(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => /:(?:[^:]*,)?memory(?:,[^:]*)?:/.test(l) || l.startsWith('0::'));
  return line ? line.slice(line.lastIndexOf(':') + 1) : '';
}

function memoryLimitOf(pid: number): number {
  const cg = memoryCgroupOf(pid);
  const v1 = `/sys/fs/cgroup/memory${cg}/memory.limit_in_bytes`;
  const v2 = `/sys/fs/cgroup${cg}/memory.max`;
  for (const f of [v1, v2]) {
    try {
      return Number(readFileSync(f, 'utf8').trim());
    } catch {
      // the other hierarchy
    }
  }
  throw new Error(`no memory limit file for pid ${pid} (cgroup ${cg})`);
}

/** The server's pid, from the state the hub wrote. */
const serverPid = (user: string): number => lab.state().servers[user].state.pid as number;

async function loggedIn(user: TestUser): Promise<CookieClient> {
  const c = new CookieClient(lab.publicUrl);
  const res = await c.login(user.name, user.password);
  expect(res.status).toBe(302);
  return c;
}

beforeAll(async () => {
  ensureGroup(TEACHERS);
  student = createTestUser('qh1');
  other = createTestUser('qh2');
  teacher = createTestUser('qh3', { groups: [TEACHERS] });
  lab = await new LabhubProcess({
    config: {
      quota: {
        diskMode: 'off',
        defaults: { memory: '300M', cpus: 1 },
        groups: { [TEACHERS]: { memory: '1G' } },
      },
    },
  }).init();
  await lab.startServe();
});

afterAll(async () => {
  for (const ch of channels) ch.close();
  await lab?.stop();
  for (const u of [student, other, teacher]) if (u) removeTestUser(u.name);
  removeGroup(TEACHERS);
  // the servers were killed with their users, behind the hub's back: drop their empty cgroups
  for (const u of [student, other, teacher]) {
    for (const dir of [`/sys/fs/cgroup/labhub/${u?.name}`, ...['memory', 'cpu', 'cpuacct', 'pids'].map((c) => `/sys/fs/cgroup/${c}/labhub/${u?.name}`)]) {
      if (u && existsSync(dir)) rmdirSync(dir);
    }
  }
});

describe('memory and CPU limits through the hub', () => {
  it('puts each server in its own cgroup with the policy limit; teachers get the group limit', async () => {
    const cs = await loggedIn(student);
    await startServer(cs, student.name);
    const ct = await loggedIn(teacher);
    await startServer(ct, teacher.name);
    const sPid = serverPid(student.name);
    const tPid = serverPid(teacher.name);
    expect(memoryCgroupOf(sPid)).toContain(`labhub/${student.name}`);
    expect(memoryLimitOf(sPid)).toBe(300 * M);
    expect(memoryLimitOf(tPid)).toBe(1024 * M);
    expect(memoryCgroupOf(tPid)).not.toBe(memoryCgroupOf(sPid));

    // the admin's CLI names the mechanism in force on this machine
    const show = spawnSync(process.execPath, [LABHUB_MAIN, 'quota', 'show', teacher.name, '--config', lab.configFile], { encoding: 'utf8', timeout: 60_000 });
    expect(show.status, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/cgroup v1|cgroup v2|systemd|cgroup-v1|cgroup-v2/);
    expect(show.stdout).toMatch(/1 ?G/);
  });

  it('a cell allocating past the limit is killed; the student is told; another student keeps their kernel', async () => {
    const co = await loggedIn(other);
    await startServer(co, other.name);
    await openServer(co, other.name);
    const otherKernel = await KernelChannel.open(co, other.name, await startKernel(co, other.name));
    channels.push(otherKernel);
    expect(await otherKernel.execute('keep = 41 + 1\nprint(keep)')).toContain('42');

    const cs = await loggedIn(student);
    await openServer(cs, student.name);
    const ch = await KernelChannel.open(cs, student.name, await startKernel(cs, student.name));
    channels.push(ch);
    expect(await ch.execute('print("alive")')).toContain('alive');
    // the notebook server restarts a kernel that died: its status says so on the websocket
    const restarted = new Promise<boolean>((resolve) =>
      ch.ws.on('message', (data) => {
        const m = JSON.parse(data.toString());
        if (m.msg_type === 'status' && ['restarting', 'dead'].includes(m.content.execution_state)) resolve(true);
      }),
    );
    // touch every page so the memory is really used; the kernel dies before it prints
    const outcome = await Promise.race([
      restarted.then(() => 'killed'),
      ch.execute('b = bytearray(600 * 2**20)\nfor i in range(0, len(b), 4096): b[i] = 1\nprint("survived")', 60_000).then(
        (out) => (out.includes('survived') ? 'survived' : 'killed'),
        () => 'killed',
      ),
    ]);
    expect(outcome).toBe('killed');

    // the hub reads the OOM count on the next visit of the home page: the server runs on, with a notice
    let page = '';
    for (let i = 0; i < 50 && !page.includes('server-notice'); i++) {
      page = (await cs.get('/hub/home')).body;
      if (!page.includes('server-notice')) await new Promise((r) => setTimeout(r, 200));
    }
    expect(page).toContain('id="server-notice"');
    expect(page).toMatch(/ran out of memory \(limit 300 MB\)/);
    expect(page).toContain('Your server is running');

    expect(await otherKernel.execute('print(keep)')).toContain('42');
  });
});
