/**
 * LocalSpawner against the real thing: real Linux users (one with a supplementary group), the
 * Debian `jupyterhub-singleuser`, setpriv, /proc. The hub is replaced by test/helpers/fake-hub-api.ts,
 * which answers the calls the server makes on its own. Needs root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fs, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lookupAccount, type Account } from '../../hub/auth/accounts.js';
import { HubError } from '../../hub/errors.js';
import { silentLogger } from '../../hub/log.js';
import { LocalSpawner, parseLocalState, type LocalSpawnerOptions } from '../../hub/spawner/local.js';
import { descendants, readProcStat } from '../../hub/spawner/proc.js';
import type { ProgressEvent } from '../../hub/spawner/types.js';
import { singleUserHubEnv, startFakeHubApi, type FakeHubApi } from '../helpers/fake-hub-api.js';
import { createTestUser, removeAllTestUsers, removeGroup, type TestUser } from '../helpers/linux-users.js';
import { waitFor } from '../helpers/wait.js';

const GROUP = 'lhtestgrp';
const CANARY = 'LABHUB_SECRET_CANARY';
const START_TIMEOUT_MS = 60_000;

let hub: FakeHubApi;
let logDir: string;
let student: TestUser;
let account: Account;
/** Servers started by a test; killed in afterEach whatever happened. */
const started: Array<{ pid: number; startTime: number }> = [];

function spawnerFor(overrides: Partial<LocalSpawnerOptions> = {}): LocalSpawner {
  return new LocalSpawner({
    logDir,
    cmd: ['jupyterhub-singleuser'],
    args: [],
    environment: { JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp' },
    path: '/usr/local/bin:/usr/bin:/bin',
    stopGraceSeconds: 10,
    logger: silentLogger(),
    ...overrides,
  });
}

async function startServer(spawner: LocalSpawner, who: Account = account, env = singleUserHubEnv(who.name, hub.apiUrl)) {
  const events: ProgressEvent[] = [];
  const t0 = performance.now();
  const server = await spawner.start({ account: who, env, prefix: `/user/${who.name}/`, onProgress: (e) => events.push(e) });
  const state = parseLocalState(server.state);
  if (!state) throw new Error('start returned no usable state');
  started.push(state);
  return { server, state, events, t0, env };
}

/** Status of a GET, or undefined while nothing answers. */
async function httpStatus(url: string, headers: Record<string, string> = {}): Promise<number | undefined> {
  try {
    const res = await fetch(url, { headers: { connection: 'close', ...headers }, redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}

async function waitAnswering(target: string, name: string): Promise<number> {
  return waitFor('the server to answer HTTP', () => httpStatus(`${target}/user/${name}/api`), START_TIMEOUT_MS, 50);
}

function statusLine(pid: number, field: string): string[] {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`)) ?? '';
  return line.slice(field.length + 1).trim().split(/\s+/).filter(Boolean);
}

function environOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return new Map(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

function isGone(pid: number, startTime: number): boolean {
  const stat = spawnSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' });
  if (stat.status !== 0) return true;
  const fields = stat.stdout.slice(stat.stdout.lastIndexOf(')') + 2).split(' ');
  return Number(fields[19]) !== startTime || fields[0] === 'Z';
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root (real users, setpriv)');
  process.env[CANARY] = 'must-not-reach-user-servers';
  logDir = mkdtempSync(join(tmpdir(), 'labhub-spawner-'));
  hub = await startFakeHubApi();
  student = createTestUser('sp1', { groups: [GROUP] });
  const found = await lookupAccount(student.name);
  if (!found) throw new Error('test user not found');
  account = found;
});

afterEach(() => {
  for (const { pid, startTime } of started.splice(0)) {
    if (!isGone(pid, startTime)) spawnSync('kill', ['-KILL', '--', `-${pid}`]);
  }
});

afterAll(async () => {
  delete process.env[CANARY];
  removeAllTestUsers();
  removeGroup(GROUP);
  await hub?.close();
  if (logDir) rmSync(logDir, { recursive: true, force: true });
});

describe('LocalSpawner with jupyterhub-singleuser', () => {
  it('runs the server as the user (uid, gid, groups), in the home, own session, clean env, logged', async () => {
    const spawner = spawnerFor();
    const { server, state, events, t0 } = await startServer(spawner);
    expect(server.target).toBe(`http://127.0.0.1:${state.port}`);
    expect(events.map((e) => e.progress)).toEqual([20, 40]);
    expect(events[1]?.message).toContain(`pid ${state.pid}`);

    const status = await waitAnswering(server.target, account.name);
    const answeredMs = performance.now() - t0;
    expect(status).toBeLessThan(500);
    console.info(`[measure] spawn → first HTTP answer (${status}): ${answeredMs.toFixed(0)} ms`);

    const { pid } = state;
    const groupGid = Number(execFileSync('getent', ['group', GROUP], { encoding: 'utf8' }).split(':')[2]);
    expect(statusLine(pid, 'Uid')).toEqual(Array(4).fill(String(student.uid)));
    expect(statusLine(pid, 'Gid')).toEqual(Array(4).fill(String(student.gid)));
    expect(statusLine(pid, 'Groups').map(Number).sort()).toEqual([student.gid, groupGid].sort());
    expect(readlinkSync(`/proc/${pid}/cwd`)).toBe(student.home);

    const stat = await readProcStat(pid);
    expect(stat?.startTime).toBe(state.startTime);
    expect(stat?.session).toBe(pid);
    expect(stat?.pgrp).toBe(pid);

    const environ = environOf(pid);
    expect(environ.get('PATH')).toBe('/usr/local/bin:/usr/bin:/bin');
    expect(environ.get('HOME')).toBe(student.home);
    expect(environ.get('USER')).toBe(student.name);
    expect(environ.get('LOGNAME')).toBe(student.name);
    expect(environ.get('SHELL')).toBe('/bin/bash');
    expect(environ.get('JUPYTERHUB_SERVICE_URL')).toBe(`http://127.0.0.1:${state.port}/user/${student.name}/`);
    expect(environ.has(CANARY)).toBe(false);
    const allowed = new Set([...Object.keys(singleUserHubEnv('x', 'y')), 'JUPYTERHUB_SERVICE_URL', 'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL']);
    expect([...environ.keys()].filter((k) => !allowed.has(k))).toEqual([]);

    // the server made the calls a hub must answer
    expect(hub.requests.some((r) => r.method === 'GET' && r.url === '/hub/api')).toBe(true);

    const logStat = await fs.stat(state.logFile);
    expect(state.logFile).toBe(join(logDir, 'users', `${student.name}.log`));
    expect(logStat.mode & 0o777).toBe(0o600);
    expect((await fs.stat(join(logDir, 'users'))).mode & 0o777).toBe(0o700);
    const tail = await spawner.logTail(student.name, 200);
    expect(tail.some((l) => l.startsWith('[labhub] ') && l.includes(`127.0.0.1:${state.port}`))).toBe(true);
    expect(tail.some((l) => /Notebook 6\.4\.12 is running|JupyterHub/.test(l))).toBe(true);

    expect(await spawner.poll(student.name, server.state)).toEqual({ running: true });

    const s0 = performance.now();
    await spawner.stop(student.name, server.state);
    const stopMs = performance.now() - s0;
    console.info(`[measure] stop (SIGINT) of an idle server: ${stopMs.toFixed(0)} ms`);
    expect(stopMs).toBeLessThan(10_000);
    expect(isGone(pid, state.startTime)).toBe(true);
    const after = await spawner.poll(student.name, server.state);
    expect(after.running).toBe(false);
    if (!after.running) expect(after.reason).toMatch(/exited with code|killed by signal SIGINT/);
    await spawner.close();
  });

  it('poll reports a server killed with SIGKILL, with the signal and the log tail, and leaves no zombie', async () => {
    const spawner = spawnerFor();
    const { server, state } = await startServer(spawner);
    await waitAnswering(server.target, account.name);
    process.kill(state.pid, 'SIGKILL');
    const result = await waitFor('poll to report the server dead', async () => {
      const r = await spawner.poll(student.name, server.state);
      return r.running ? undefined : r;
    }, 5_000);
    expect(result).toMatchObject({ running: false, exitCode: null, signal: 'SIGKILL' });
    if (!result.running) {
      expect(result.reason).toContain(`Server process ${state.pid} was killed by signal SIGKILL`);
      expect(result.reason).toContain('Last lines of the log:');
    }
    // reaped by the hub process: no /proc entry, not a zombie
    expect(await readProcStat(state.pid)).toBeNull();
    // stopping a server that is already gone resolves at once
    const s0 = performance.now();
    await spawner.stop(student.name, server.state);
    expect(performance.now() - s0).toBeLessThan(2_000); // no grace period was waited
    await spawner.close();
  });

  it('a fresh spawner (hub restart) re-adopts from state only: polls it and stops it with its kernel', async () => {
    const token = 'a'.repeat(32);
    await hub.close();
    hub = await startFakeHubApi({ users: { [token]: { name: student.name, scopes: [`access:servers!server=${student.name}/`] } } });
    const first = spawnerFor();
    const { server, state } = await startServer(first, account, singleUserHubEnv(student.name, hub.apiUrl, token));
    await waitAnswering(server.target, account.name);
    const res = await fetch(`${server.target}/user/${student.name}/api/kernels`, {
      method: 'POST',
      headers: { authorization: `token ${token}`, 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ name: 'python3' }),
    });
    expect(res.status).toBe(201);
    const kernel = await waitFor('a kernel process', async () => (await descendants(state.pid))[0], 30_000);
    expect(kernel.session).not.toBe(state.pid); // jupyter_client starts kernels in a session of their own
    await first.close(); // what a hub shutdown does: the server keeps running
    expect(isGone(state.pid, state.startTime)).toBe(false);

    const second = spawnerFor();
    const persisted = JSON.parse(JSON.stringify(server.state)) as Record<string, unknown>;
    expect(await second.poll(student.name, persisted)).toEqual({ running: true });
    await second.stop(student.name, persisted);
    expect(isGone(state.pid, state.startTime)).toBe(true);
    expect(isGone(kernel.pid, kernel.startTime)).toBe(true);
    const after = await second.poll(student.name, persisted);
    expect(after).toMatchObject({ running: false, exitCode: null, signal: null });
    if (!after.running) expect(after.reason).toContain('exit status unknown');
    await second.close();
  });
});

describe('LocalSpawner with small commands', () => {
  it('reports the exit code and output of a server that exits on its own', async () => {
    const spawner = spawnerFor({ cmd: ['/bin/sh'], args: ['-c', 'sleep 1; echo "boom from $USER in $PWD"; exit 3'] });
    const { server, state } = await startServer(spawner);
    const result = await waitFor('the command to exit', async () => {
      const r = await spawner.poll(student.name, server.state);
      return r.running ? undefined : r;
    }, 10_000);
    expect(result).toMatchObject({ running: false, exitCode: 3, signal: null });
    if (!result.running) {
      expect(result.reason).toContain(`Server process ${state.pid} exited with code 3`);
      expect(result.reason).toContain(`boom from ${student.name} in ${student.home}`);
    }
    await spawner.close();
  });

  it('start fails with the exit code and output when the command dies at once (or poll reports it)', async () => {
    const spawner = spawnerFor({ cmd: ['/bin/false'] });
    const outcome = await startServer(spawner).then(
      async ({ server }) => waitFor('poll to report the exit', async () => {
        const r = await spawner.poll(student.name, server.state);
        return r.running ? undefined : r.reason;
      }, 5_000),
      (err: HubError) => {
        expect(err.code).toBe('HUB_ERR_SPAWN_FAILED');
        return err.message;
      },
    );
    expect(outcome).toMatch(/^Server process \d+ exited with code 1 \(nothing in the log\)$/);
    await spawner.close();
  });

  it('stop escalates SIGINT → SIGTERM → SIGKILL to the process group and kills descendants in other sessions', async () => {
    const script = 'trap "" INT TERM; sleep 600 & setsid sleep 600 & wait';
    const spawner = spawnerFor({ cmd: ['/bin/sh'], args: ['-c', script], stopGraceSeconds: 0.5, termGraceSeconds: 0.5 });
    const { server, state } = await startServer(spawner);
    // wait until setsid has really moved its sleep into a session of its own
    const kids = await waitFor('two sleep processes, one in another session', async () => {
      const d = (await descendants(state.pid)).filter((p) => p.state !== 'Z');
      return d.length >= 2 && d.some((k) => k.session !== state.pid) ? d : undefined;
    }, 5_000);
    expect(kids.some((k) => k.session !== state.pid)).toBe(true);
    const s0 = performance.now();
    await spawner.stop(student.name, server.state);
    const ms = performance.now() - s0;
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(10_000); // generous: only "it escalated instead of hanging" matters
    expect(isGone(state.pid, state.startTime)).toBe(true);
    for (const k of kids) expect(isGone(k.pid, k.startTime)).toBe(true);
    const result = await spawner.poll(student.name, server.state);
    expect(result).toMatchObject({ running: false, signal: 'SIGKILL' });
    await spawner.close();
  });

  it('starts the server in a session and process group of its own, apart from the hub’s', async () => {
    const spawner = spawnerFor({ cmd: ['/bin/sleep'], args: ['600'] });
    const { server, state } = await startServer(spawner);
    const stat = await readProcStat(state.pid);
    expect(stat?.session).toBe(state.pid);
    expect(stat?.session).not.toBe((await readProcStat(process.pid))?.session);
    expect(stat?.pgrp).not.toBe((await readProcStat(process.pid))?.pgrp);
    await spawner.stop(student.name, server.state);
    expect(isGone(state.pid, state.startTime)).toBe(true);
    await spawner.close();
  });
});

describe('LocalSpawner refuses to start, with clear errors', () => {
  async function startError(spawner: LocalSpawner, who: Account): Promise<HubError> {
    const err = await spawner.start({ account: who, env: singleUserHubEnv(who.name, hub.apiUrl), prefix: `/user/${who.name}/`, onProgress: () => {} }).then(
      () => {
        throw new Error('start should have failed');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('HUB_ERR_SPAWN_FAILED');
    return err as HubError;
  }

  it('when the home directory does not exist', async () => {
    const homeless = createTestUser('sp2');
    rmSync(homeless.home, { recursive: true, force: true });
    const who = await lookupAccount(homeless.name);
    const err = await startError(spawnerFor(), who as Account);
    expect(err.message).toBe(`Home directory ${homeless.home} of user ${homeless.name} does not exist`);
  });

  it('when the command is not on the server PATH (root’s PATH does not count)', async () => {
    const err = await startError(spawnerFor({ cmd: ['labhub-no-such-command'] }), account);
    expect(err.message).toBe('Server command "labhub-no-such-command" not found on PATH /usr/local/bin:/usr/bin:/bin');
    const err2 = await startError(spawnerFor({ cmd: ['/opt/labhub/missing-singleuser'] }), account);
    expect(err2.message).toBe('Server command not found: /opt/labhub/missing-singleuser');
  });

  it('for root or a uid/gid below 1', async () => {
    const root = { ...account, name: 'root', uid: 0, gid: 0, home: '/root' };
    expect((await startError(spawnerFor(), root)).message).toMatch(/uid 0 \/ gid 0 is root or invalid/);
    expect((await startError(spawnerFor(), { ...account, gid: 0 })).message).toMatch(/is root or invalid/);
  });

  it('for an invalid user name', async () => {
    const err = await startError(spawnerFor(), { ...account, name: '../etc' });
    expect(err.message).toContain('Invalid user name');
    await expect(spawnerFor().logTail('../etc')).rejects.toMatchObject({ code: 'HUB_ERR_INVALID_NAME' });
  });
});
