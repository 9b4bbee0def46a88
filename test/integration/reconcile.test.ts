/**
 * Acceptance 6 of issue 3, with real parts: the hub is killed (SIGKILL) with 5 real servers
 * running, one of them is killed while the hub is down, and the hub is started again. It re-adopts
 * the 4 that still run (listed as ready, reachable through OAuth as before) and lists the dead one
 * as stopped, with its proxy route gone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../helpers/browserless-client.js';
import { openServer, startServer } from '../helpers/jupyter.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';

let lab: LabhubProcess;
let students: TestUser[] = [];
let clients: CookieClient[] = [];

beforeAll(async () => {
  students = Array.from({ length: 5 }, (_, i) => createTestUser(`rc${i + 1}`));
  lab = await new LabhubProcess().init();
  await lab.startServe();
  clients = students.map(() => new CookieClient(lab.publicUrl));
  await Promise.all(
    students.map(async (s, i) => {
      expect((await clients[i]!.login(s.name, s.password)).status).toBe(302);
      await startServer(clients[i]!, s.name);
    }),
  );
});

afterAll(async () => {
  await lab?.stop();
  removeAllTestUsers();
}, 120_000);

function serverPid(user: string): number {
  return lab.state().servers[user].state.pid as number;
}

function alive(pid: number): boolean {
  try {
    // a zombie still answers kill(0); only a live process is in state other than Z
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function userModel(c: CookieClient, user: string): Promise<any> {
  const res = await c.raw(`/hub/api/users/${user}`, { headers: { referer: `${lab.publicUrl}/hub/home` } });
  expect(res.status).toBe(200);
  return JSON.parse(res.body);
}

/** The proxy's routing table, from its control API. */
async function proxyRoutes(): Promise<Record<string, { target: string }>> {
  const token = readFileSync(join(lab.dataDir, 'data', 'proxy-token'), 'utf8').trim();
  const res = await fetch(`http://127.0.0.1:${lab.apiPort}/api/routes`, { headers: { authorization: `token ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, { target: string }>;
}

describe('hub killed and restarted with 5 running servers', () => {
  it('re-adopts the 4 still running as ready, lists the one killed meanwhile as stopped and removes its route', async () => {
    const pids = new Map(students.map((s) => [s.name, serverPid(s.name)]));
    const before = await proxyRoutes();
    for (const s of students) expect(before[`/user/${s.name}/`]).toBeDefined();

    await lab.killServe('SIGKILL');
    const victim = students[2]!;
    const victimPid = pids.get(victim.name)!;
    process.kill(victimPid, 'SIGKILL');
    for (let i = 0; i < 100 && alive(victimPid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(victimPid)).toBe(false);
    // the proxy carries on alone meanwhile, its routes untouched
    expect(Object.keys(await proxyRoutes())).toEqual(Object.keys(before));

    await lab.startServe();

    const survivors = students.filter((s) => s !== victim);
    for (const s of survivors) {
      const c = clients[students.indexOf(s)]!;
      const model = await userModel(c, s.name);
      expect(model.server, s.name).toBe(`/user/${s.name}/`);
      expect(model.servers[''].ready, s.name).toBe(true);
      expect(model.pending).toBeNull();
      // the same process, still running, and still let in by the restarted hub's OAuth
      expect(serverPid(s.name)).toBe(pids.get(s.name));
      expect(alive(pids.get(s.name)!)).toBe(true);
      await openServer(c, s.name);
      expect((await c.raw(`/user/${s.name}/api/status`)).status).toBe(200);
    }

    const victimClient = clients[students.indexOf(victim)]!;
    const model = await userModel(victimClient, victim.name);
    expect(model.server).toBeNull();
    expect(model.pending).toBeNull();
    const rec = lab.state().servers[victim.name];
    expect(rec.status).toBe('stopped');
    expect(rec.stopReason).toMatch(/^Your server stopped: Server process \d+ is no longer running/);
    const routes = await proxyRoutes();
    expect(routes[`/user/${victim.name}/`]).toBeUndefined();
    for (const s of survivors) expect(routes[`/user/${s.name}/`]?.target).toBe(before[`/user/${s.name}/`]!.target);
    // the student is told on their next visit, with a way to start again
    const visit = await victimClient.get(`/user/${victim.name}/tree`);
    expect(visit.status).toBe(424);
    expect(visit.body).toContain(`href="/hub/spawn/${victim.name}`);
  });
});
