/**
 * The pre-warmed launcher inside the real `labhub serve` (default config: the launcher is on),
 * with real PAM users: acceptance 4 of the launcher issue (20 students start at once through the
 * launcher, all ready, each server owned by its student) and acceptance 3 (a server the launcher
 * forked survives a hub SIGKILL and is re-adopted by the next hub, which starts its own launcher).
 */
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../helpers/browserless-client.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';
import { waitFor as waitForAny } from '../helpers/wait.js';

const STUDENTS = 20;

let lab: LabhubProcess;
let students: TestUser[] = [];
const clients = new Map<string, CookieClient>();

/** The hub's JSON log lines with a given message. */
function hubLog(msg: string): Array<Record<string, any>> {
  const file = join(lab.dataDir, 'data', 'logs', 'hub.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((l) => l.msg === msg);
}

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 100) =>
  waitForAny(what, fn, timeoutMs, everyMs, () => lab.output());

/** Reads a spawn's progress stream to its end. */
async function progressOf(c: CookieClient, user: string): Promise<Array<{ progress: number; message: string; ready?: boolean; failed?: boolean }>> {
  const res = await fetch(`${lab.publicUrl}/hub/api/users/${user}/server/progress`, {
    headers: { cookie: c.cookieHeader('/hub/api/'), referer: `${lab.publicUrl}/hub/spawn-pending/${user}` },
    signal: AbortSignal.timeout(180_000),
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  return text.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => JSON.parse(b.slice(6)));
}

function statusIds(pid: number, field: 'Uid' | 'Gid'): number[] {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`)) ?? '';
  return line.slice(field.length + 1).trim().split(/\s+/).map(Number);
}

function launcherPids(): number[] {
  const sock = join(lab.dataDir, 'data', 'launcher', 'launcher.sock');
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a.endsWith('labhub_launcher.py')) && cmd.includes(sock)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

function alive(pid: number, startTime: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return f[0] !== 'Z' && Number(f[19]) === startTime;
  } catch {
    return false;
  }
}

/** Removes the (empty) server cgroups the hub left for these users: their servers were killed with the accounts. */
function removeUserCgroups(names: string[]): void {
  for (const controller of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    for (const name of names) {
      try {
        rmdirSync(`/sys/fs/cgroup/${controller}/labhub/${name}`);
      } catch {
        // not there, or not this controller
      }
    }
  }
}

beforeAll(async () => {
  students = Array.from({ length: STUDENTS }, (_, i) => createTestUser(`lwh${i + 1}`));
  lab = await new LabhubProcess({ config: { spawner: { startTimeoutSeconds: 120 } } }).init();
  await lab.startServe();
  await waitFor('the pre-warmed launcher', () => hubLog('pre-warmed launcher ready').length > 0, 90_000, 200);
}, 180_000);

afterAll(async () => {
  try {
    await lab?.stop();
  } finally {
    removeAllTestUsers();
    removeUserCgroups(students.map((s) => s.name));
  }
}, 120_000);

describe('the launcher in the hub', () => {
  it(`starts ${STUDENTS} students at once, every server forked by the launcher, ready, running as its student`, async () => {
    for (const s of students) clients.set(s.name, new CookieClient(lab.publicUrl));
    const logins = await Promise.all(students.map((s) => clients.get(s.name)!.login(s.name, s.password)));
    for (const l of logins) expect(l.status).toBe(302);

    const journeys = await Promise.all(
      students.map(async (s) => {
        const c = clients.get(s.name)!;
        const spawn = await c.raw(`/hub/spawn/${s.name}`);
        return { s, spawn: spawn.status, events: await progressOf(c, s.name) };
      }),
    );
    const state = lab.state();
    for (const j of journeys) {
      expect(j.spawn, j.s.name).toBe(302);
      expect(j.events.at(-1), j.s.name).toMatchObject({ ready: true });
      // a start that finished within the spawn request's wait replays only its end: no stage then
      const stages = j.events.filter((e) => e.message.startsWith('Starting your server process ('));
      expect(stages.map((e) => e.message).filter((m) => m !== 'Starting your server process (pre-warmed)'), j.s.name).toEqual([]);
      const rec = state.servers[j.s.name];
      expect(rec.status).toBe('running');
      expect(rec.state.via, j.s.name).toBe('launcher');
      expect(statusIds(rec.state.pid, 'Uid')).toEqual(Array(4).fill(j.s.uid));
      expect(statusIds(rec.state.pid, 'Gid')).toEqual(Array(4).fill(j.s.gid));
    }
    expect(state.spawnFailures).toEqual([]);
    // one student goes through the proxy and OAuth to their notebook's API
    const first = students[0]!;
    // the tree page does the OAuth dance (the server's own cookie), then its API answers
    expect((await clients.get(first.name)!.get(`/user/${first.name}/tree/`)).status).toBe(200);
    expect((await clients.get(first.name)!.get(`/user/${first.name}/api/status`)).status).toBe(200);
  }, 240_000);

  it('keeps the launcher-forked servers through a hub SIGKILL; the next hub re-adopts them and starts its own launcher', async () => {
    const before = lab.state().servers as Record<string, { state: { pid: number; startTime: number } }>;
    const oldLaunchers = launcherPids();
    expect(oldLaunchers).toHaveLength(1);
    await lab.killServe('SIGKILL');
    // the launcher leaves with its hub (parent-death signal); the servers do not
    await waitFor('the old launcher to exit', () => launcherPids().length === 0, 10_000);
    for (const s of students) expect(alive(before[s.name]!.state.pid, before[s.name]!.state.startTime), s.name).toBe(true);

    await lab.startServe();
    const after = lab.state().servers as Record<string, { status: string; state: { pid: number; startTime: number; via: string } }>;
    for (const s of students) {
      expect(after[s.name]!.status, s.name).toBe('running');
      expect(after[s.name]!.state.pid).toBe(before[s.name]!.state.pid);
      expect(after[s.name]!.state.via).toBe('launcher');
    }
    // still reachable with the same browser session (no new hub login), through the proxy
    const first = students[0]!;
    expect((await clients.get(first.name)!.get(`/user/${first.name}/tree/`)).status).toBe(200);
    expect((await clients.get(first.name)!.get(`/user/${first.name}/api/status`)).status).toBe(200);
    await waitFor('a new launcher', () => hubLog('pre-warmed launcher ready').length >= 2, 90_000, 200);
    expect(launcherPids()).toHaveLength(1);

    // an adopted server is stopped like any other: gone, and its record says so
    const { token } = JSON.parse(readFileSync(join(lab.dataDir, 'data', 'cli-token'), 'utf8')) as { token: string };
    const second = students[1]!;
    const del = await fetch(`${lab.publicUrl}/hub/api/users/${second.name}/server`, { method: 'DELETE', headers: { authorization: `token ${token}` } });
    expect([202, 204]).toContain(del.status);
    const { pid, startTime } = before[second.name]!.state;
    await waitFor('the adopted server to stop', () => !alive(pid, startTime), 30_000);
    await waitFor('the record to say stopped', () => lab.state().servers[second.name].status === 'stopped', 30_000);
  }, 240_000);
});
