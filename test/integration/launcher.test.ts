/**
 * The pre-warmed launcher (resources/launcher/labhub_launcher.py + hub/spawner/launcher.ts) under
 * the real local spawner: real Linux users, Debian's jupyterhub-singleuser and /usr/bin/python3,
 * real cgroup v1 directories. The hub is replaced by test/helpers/fake-hub-api.ts. Needs root.
 *
 * A forked server is compared field by field with a cold start of the same user; the fallbacks
 * (launcher killed, hung, command not the entry point, packages upgraded) all still start the
 * server; the launcher retires after its fork limit; its socket is root-only and it refuses
 * non-root peers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fs, readFileSync, readlinkSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lookupAccount, type Account } from '../../hub/auth/accounts.js';
import { silentLogger } from '../../hub/log.js';
import { PrewarmedLauncher } from '../../hub/spawner/launcher.js';
import { LocalSpawner, parseLocalState, type LocalSpawnerOptions } from '../../hub/spawner/local.js';
import { readProcStat } from '../../hub/spawner/proc.js';
import type { ProgressEvent } from '../../hub/spawner/types.js';
import { singleUserHubEnv, startFakeHubApi, type FakeHubApi } from '../helpers/fake-hub-api.js';
import { createTestUser, removeAllTestUsers, removeGroup, type TestUser } from '../helpers/linux-users.js';
import { waitFor } from '../helpers/wait.js';

const GROUP = 'lhtestlwgrp';
const CANARY = 'LABHUB_SECRET_CANARY';
/** Touched (mtime only, then restored) to look like an upgrade of the notebook package. */
const NOTEBOOK_METADATA = '/usr/lib/python3/dist-packages/notebook-6.4.12.egg-info/PKG-INFO';

let hub: FakeHubApi;
let dir: string;
let logDir: string;
let student: TestUser;
let account: Account;
const launchers: PrewarmedLauncher[] = [];
const started: Array<{ pid: number; startTime: number }> = [];

interface LauncherOverrides {
  maxForks?: number;
  maxRssMb?: number;
  requestTimeoutMs?: number;
  healthIntervalMs?: number;
}

function newLauncher(overrides: LauncherOverrides = {}): PrewarmedLauncher {
  const l = new PrewarmedLauncher({
    python: '/usr/bin/python3',
    runDir: mkdtempSync(join(dir, 'run-')),
    logFile: join(logDir, 'launcher.log'),
    app: 'notebook.notebookapp.NotebookApp',
    maxForks: overrides.maxForks ?? 500,
    maxRssMb: overrides.maxRssMb ?? 400,
    logger: silentLogger(),
    backoffMs: 200,
    ...(overrides.requestTimeoutMs ? { requestTimeoutMs: overrides.requestTimeoutMs } : {}),
    ...(overrides.healthIntervalMs ? { healthIntervalMs: overrides.healthIntervalMs } : {}),
  });
  launchers.push(l);
  l.start();
  return l;
}

async function readyLauncher(overrides: LauncherOverrides = {}): Promise<PrewarmedLauncher> {
  const l = newLauncher(overrides);
  if (!(await l.whenReady(90_000))) throw new Error(`launcher not ready:\n${readFileSync(join(logDir, 'launcher.log'), 'utf8').slice(-2000)}`);
  return l;
}

function spawnerFor(launcher: PrewarmedLauncher | null, overrides: Partial<LocalSpawnerOptions> = {}): LocalSpawner {
  return new LocalSpawner({
    logDir,
    cmd: ['jupyterhub-singleuser'],
    args: [],
    environment: { JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp' },
    path: '/usr/local/bin:/usr/bin:/bin',
    stopGraceSeconds: 10,
    logger: silentLogger(),
    launcher,
    ...overrides,
  });
}

async function startServer(spawner: LocalSpawner, env = singleUserHubEnv(account.name, hub.apiUrl)) {
  const events: ProgressEvent[] = [];
  const server = await spawner.start({ account, env, prefix: `/user/${account.name}/`, onProgress: (e) => events.push(e) });
  const state = parseLocalState(server.state);
  if (!state) throw new Error('start returned no usable state');
  started.push(state);
  return { server, state, events, messages: events.map((e) => e.message).join(' | ') };
}

async function waitAnswering(target: string): Promise<number> {
  return waitFor('the server to answer HTTP', async () => {
    try {
      const res = await fetch(`${target}/user/${account.name}/api`, { headers: { connection: 'close' }, redirect: 'manual', signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return undefined;
    }
  }, 60_000, 50);
}

function statusField(pid: number, field: string): string {
  return (readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`)) ?? '').slice(field.length + 1).trim();
}

function environOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return new Map(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

function cmdlineOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

/** Inodes of the unix sockets bound at `path` (from /proc/net/unix). */
function socketInodes(path: string): Set<string> {
  const lines = readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1);
  return new Set(lines.map((l) => l.trim().split(/\s+/)).filter((f) => f[7] === path).map((f) => f[6]!));
}

function socketFds(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  }).filter((t) => t.startsWith('socket:')).map((t) => t.slice('socket:['.length, -1));
}

function isGone(pid: number, startTime: number): boolean {
  const stat = spawnSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' });
  if (stat.status !== 0) return true;
  const fields = stat.stdout.slice(stat.stdout.lastIndexOf(')') + 2).split(' ');
  return Number(fields[19]) !== startTime || fields[0] === 'Z';
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root (real users, setuid, cgroups)');
  process.env[CANARY] = 'must-not-reach-user-servers';
  dir = mkdtempSync(join(tmpdir(), 'labhub-launcher-'));
  logDir = join(dir, 'logs');
  hub = await startFakeHubApi();
  student = createTestUser('lw1', { groups: [GROUP] });
  const found = await lookupAccount(student.name);
  if (!found) throw new Error('test user not found');
  account = found;
});

afterEach(async () => {
  for (const { pid, startTime } of started.splice(0)) {
    if (!isGone(pid, startTime)) spawnSync('kill', ['-KILL', '--', `-${pid}`]);
  }
  // each test has launchers of its own; a stopped one can take no part in the next test
  for (const l of launchers.splice(0)) await l.close();
});

afterAll(async () => {
  delete process.env[CANARY];
  for (const l of launchers.splice(0)) await l.close().catch(() => undefined);
  removeAllTestUsers();
  removeGroup(GROUP);
  await hub?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('a server forked by the launcher', () => {
  it('is the same as a cold start for the student: ids, groups, cwd, umask, limits, environment, command line, session', async () => {
    const launcher = await readyLauncher();
    const cold = await startServer(spawnerFor(null));
    const warm = await startServer(spawnerFor(launcher));
    expect(warm.messages).toContain('Starting your server process (pre-warmed)');
    expect(warm.server.state.via).toBe('launcher');
    expect(cold.server.state.via).toBe('cold');
    await Promise.all([waitAnswering(cold.server.target), waitAnswering(warm.server.target)]);

    const c = cold.state.pid;
    const w = warm.state.pid;
    const groupGid = Number(execFileSync('getent', ['group', GROUP], { encoding: 'utf8' }).split(':')[2]);
    for (const field of ['Uid', 'Gid', 'Groups', 'Umask', 'NoNewPrivs', 'CapEff', 'CapPrm', 'CapBnd', 'Seccomp']) {
      expect(statusField(w, field), field).toBe(statusField(c, field));
    }
    expect(statusField(w, 'Uid').split(/\s+/)).toEqual(Array(4).fill(String(student.uid)));
    expect(statusField(w, 'Groups').split(/\s+/).map(Number).sort()).toEqual([student.gid, groupGid].sort());
    expect(statusField(w, 'Umask')).toBe('0022');
    expect(readlinkSync(`/proc/${w}/cwd`)).toBe(student.home);
    expect(readFileSync(`/proc/${w}/limits`, 'utf8')).toBe(readFileSync(`/proc/${c}/limits`, 'utf8'));
    // its /proc files belong to the student, as after an exec
    expect(statSync(`/proc/${w}/environ`).uid).toBe(student.uid);
    expect(cmdlineOf(w)).toEqual(cmdlineOf(c));
    expect(cmdlineOf(w)).toEqual(['/usr/bin/python3', '/usr/bin/jupyterhub-singleuser']);
    expect(readFileSync(`/proc/${w}/comm`, 'utf8')).toBe(readFileSync(`/proc/${c}/comm`, 'utf8'));

    const ce = environOf(c);
    const we = environOf(w);
    expect(we.has(CANARY)).toBe(false);
    expect(we.get('PATH')).toBe('/usr/local/bin:/usr/bin:/bin');
    expect([...we.keys()].sort()).toEqual([...ce.keys()].sort());
    for (const [k, v] of ce) if (!['JUPYTERHUB_SERVICE_URL', 'JUPYTERHUB_API_TOKEN'].includes(k)) expect(we.get(k), k).toBe(v);

    const [cs, ws] = [await readProcStat(c), await readProcStat(w)];
    expect(ws?.session).toBe(w);
    expect(ws?.pgrp).toBe(w);
    expect(cs?.session).toBe(c);
    // the launcher's socket is not among its descriptors, nor any descriptor beyond what the server opened itself
    const launcherSockets = socketInodes(launcher.socketPath);
    expect(launcherSockets.size).toBeGreaterThan(0);
    expect(socketFds(w).filter((i) => launcherSockets.has(i))).toEqual([]);
    expect(readlinkSync(`/proc/${w}/fd/1`)).toBe(join(logDir, 'users', `${student.name}.log`));
    expect(readlinkSync(`/proc/${w}/fd/0`)).toBe('/dev/null');

    // the hub's readiness calls were made by both
    const tail = await spawnerFor(null).logTail(student.name, 400);
    expect(tail.filter((l) => /Notebook 6\.4\.12 is running/.test(l)).length).toBeGreaterThanOrEqual(2);

    // stop and poll behave as for a cold start, and the launcher tells the exit status
    const spawner = spawnerFor(launcher);
    expect(await spawner.poll(student.name, warm.server.state)).toEqual({ running: true });
    await spawner.stop(student.name, warm.server.state);
    expect(isGone(w, warm.state.startTime)).toBe(true);
    const after = await spawner.poll(student.name, warm.server.state);
    expect(after.running).toBe(false);
    if (!after.running) expect(after.reason).toMatch(/exited with code \d+|killed by signal SIGINT/);
    await spawnerFor(null).stop(student.name, cold.server.state);
  });

  it('joins the server cgroups prepared for the memory and CPU limits before it runs, and they are removed after stop', async () => {
    const launcher = await readyLauncher();
    const spawner = spawnerFor(launcher, { limitsFor: async () => ({ memory: 1024 ** 3, cpus: 1 }) });
    const warm = await startServer(spawner);
    expect(warm.messages).toContain('(pre-warmed)');
    const cgroups = readFileSync(`/proc/${warm.state.pid}/cgroup`, 'utf8');
    expect(cgroups).toMatch(new RegExp(`memory:/labhub/${student.name}\\b`));
    expect(cgroups).toMatch(new RegExp(`cpu[^:]*:/labhub/${student.name}\\b`));
    const memDir = `/sys/fs/cgroup/memory/labhub/${student.name}`;
    expect(Number(readFileSync(join(memDir, 'memory.limit_in_bytes'), 'utf8'))).toBe(1024 ** 3);
    await waitAnswering(warm.server.target);
    await spawner.stop(student.name, warm.server.state);
    expect(isGone(warm.state.pid, warm.state.startTime)).toBe(true);
    await waitFor('the cgroup to be removed', async () => !(await fs.stat(memDir).catch(() => null)), 10_000);
  });
});

describe('fallback to a cold start', () => {
  it('when the launcher was killed, and warm again once it is back', async () => {
    const launcher = await readyLauncher();
    const spawner = spawnerFor(launcher);
    process.kill(launcher.pid!, 'SIGKILL');
    await waitFor('the hub to notice', () => launcher.unavailable() !== null, 5_000, 20);
    const cold = await startServer(spawner);
    expect(cold.messages).toMatch(/cold start: the launcher is (restarting \(killed by SIGKILL\)|still starting)/);
    expect(cold.server.state.via).toBe('cold');
    await waitAnswering(cold.server.target);
    await spawner.stop(student.name, cold.server.state);

    expect(await launcher.whenReady(90_000)).toBe(true);
    expect(launcher.status().restarts).toBeGreaterThanOrEqual(1);
    const warm = await startServer(spawner);
    expect(warm.server.state.via).toBe('launcher');
    await waitAnswering(warm.server.target);
    await spawner.stop(student.name, warm.server.state);
  });

  it('when the launcher hangs: the request times out, the server starts cold, and the health check replaces the launcher', async () => {
    const launcher = await readyLauncher({ requestTimeoutMs: 1_500, healthIntervalMs: 500 });
    const hung = launcher.pid!;
    const spawner = spawnerFor(launcher);
    process.kill(hung, 'SIGSTOP');
    try {
      const cold = await startServer(spawner);
      // no answer within 1500 ms (or, when a failed health ping came first, the launcher killed under it)
      expect(cold.messages).toMatch(/cold start: the launcher could not start it: /);
      await waitAnswering(cold.server.target);
      await spawner.stop(student.name, cold.server.state);
      // the failed spawn and a failed ping: killed and restarted
      await waitFor('the hung launcher to be replaced', () => launcher.status().lastExit === 'killed by SIGKILL', 15_000, 50);
      expect(await launcher.whenReady(90_000)).toBe(true);
      expect(launcher.pid).not.toBe(hung);
    } finally {
      try {
        process.kill(hung, 'SIGCONT');
      } catch {
        // killed by the health check, as it should be
      }
    }
  });

  it('when the configured Python does not exist: the launcher is reported as not startable, and retried', async () => {
    const launcher = new PrewarmedLauncher({
      python: '/nonexistent/python3',
      runDir: mkdtempSync(join(dir, 'run-')),
      logFile: join(logDir, 'launcher.log'),
      app: 'notebook.notebookapp.NotebookApp',
      maxForks: 500,
      maxRssMb: 400,
      logger: silentLogger(),
      backoffMs: 200,
    });
    launchers.push(launcher);
    launcher.start();
    await waitFor('the failed start', () => launcher.status().lastExit?.startsWith('could not be started'), 5_000, 20);
    const spawner = spawnerFor(launcher, { cmd: ['/bin/sleep'], args: ['600'] });
    const { server, messages } = await startServer(spawner);
    expect(messages).toMatch(/cold start: the launcher is (restarting \(could not be started: spawn \/nonexistent\/python3 ENOENT\)|still starting)/);
    await spawner.stop(student.name, server.state);
    await waitFor('a retry', () => launcher.status().restarts >= 2, 5_000, 20);
  });

  it('when spawner.cmd is not the jupyterhub-singleuser entry point', async () => {
    const launcher = await readyLauncher();
    const spawner = spawnerFor(launcher, { cmd: ['/bin/sleep'], args: ['600'] });
    const { server, messages } = await startServer(spawner);
    expect(messages).toContain('cold start: spawner.cmd runs /bin/sleep, not the jupyterhub-singleuser entry point');
    const pid = parseLocalState(server.state)!.pid;
    await waitFor('setpriv to exec the command', () => cmdlineOf(pid).join(' ') === '/bin/sleep 600', 5_000, 20);
    await spawner.stop(student.name, server.state);
  });
});

describe('launcher life cycle', () => {
  it('restarts itself when the single-user packages change on disk; the spawn that noticed starts cold', async () => {
    const launcher = await readyLauncher();
    const firstPid = launcher.pid;
    const spawner = spawnerFor(launcher);
    const { atime, mtime } = statSync(NOTEBOOK_METADATA);
    try {
      utimesSync(NOTEBOOK_METADATA, atime, new Date(mtime.getTime() + 60_000));
      // its periodic check (every 10 s) or this spawn's check finds it first
      const s = await startServer(spawner);
      if (s.server.state.via === 'launcher') await waitFor('the periodic check', () => launcher.status().lastExit !== null, 15_000);
      else expect(s.messages).toMatch(/cold start: the launcher (could not start it|is restarting)/);
      await spawner.stop(student.name, s.server.state);
      expect(launcher.status().lastExit).toBe('packages changed on disk');
    } finally {
      utimesSync(NOTEBOOK_METADATA, atime, mtime);
    }
    // the new launcher loaded the (restored) packages; if it saw the touched stamp it restarts once more
    await waitFor('a new launcher', async () => launcher.pid !== firstPid && (await launcher.whenReady(1_000)), 90_000, 200);
    const log = readFileSync(join(logDir, 'launcher.log'), 'utf8');
    expect(log).toContain('single-user packages changed on disk; restarting');
  });

  it('retires after maxForks and is replaced; the servers it forked keep running and can be stopped', async () => {
    const launcher = await readyLauncher({ maxForks: 2 });
    const firstPid = launcher.pid;
    const spawner = spawnerFor(launcher);
    const a = await startServer(spawner);
    const b = await startServer(spawner, singleUserHubEnv(account.name, hub.apiUrl));
    expect([a.server.state.via, b.server.state.via]).toEqual(['launcher', 'launcher']);
    await waitFor('the launcher to retire', () => launcher.status().lastExit === 'retired', 10_000, 50);
    await Promise.all([waitAnswering(a.server.target), waitAnswering(b.server.target)]);
    expect(await spawner.poll(student.name, a.server.state)).toEqual({ running: true });
    expect(await launcher.whenReady(90_000)).toBe(true);
    expect(launcher.pid).not.toBe(firstPid);
    for (const s of [a, b]) {
      await spawner.stop(student.name, s.server.state);
      expect(isGone(s.state.pid, s.state.startTime)).toBe(true);
    }
  });

  it('retires when its own memory passes maxRssMb', async () => {
    const launcher = await readyLauncher({ maxRssMb: 50 });
    const first = launcher.pid;
    const s = await startServer(spawnerFor(launcher));
    expect(s.server.state.via).toBe('launcher');
    await waitFor('the launcher to retire', () => launcher.status().lastExit === 'retired', 10_000, 50);
    expect(readFileSync(join(logDir, 'launcher.log'), 'utf8')).toMatch(/retiring: resident memory \d+ kB is over the limit/);
    expect(await launcher.whenReady(90_000)).toBe(true);
    expect(launcher.pid).not.toBe(first);
    await spawnerFor(null).stop(student.name, s.server.state);
  });

  it('is reachable by root only: a 0700 root directory, a 0600 socket, and non-root peers refused', async () => {
    const launcher = await readyLauncher();
    const runDir = join(launcher.socketPath, '..');
    const d = statSync(runDir);
    const s = statSync(launcher.socketPath);
    expect([d.uid, d.mode & 0o777]).toEqual([0, 0o700]);
    expect([s.uid, s.mode & 0o777, s.isSocket()]).toEqual([0, 0o600, true]);
    expect((await launcher.ping()).pid).toBe(launcher.pid);

    const asStudent = (path: string) =>
      spawnSync('setpriv', ['--reuid', String(student.uid), '--regid', String(student.gid), '--init-groups', '--', '/usr/bin/python3', '-c',
        'import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1])\nexcept OSError as e:\n print("refused", e.errno); sys.exit(0)\ntry:\n s.sendall(b"ping\\n")\n print("answer", repr(s.recv(4096)))\nexcept OSError as e:\n print("closed", e.errno)',
        path], { encoding: 'utf8', cwd: '/' });
    // as shipped: the directory keeps students out
    expect(asStudent(launcher.socketPath).stdout).toMatch(/^refused 13/);
    // even with the file modes opened up, the launcher checks the peer's uid and answers nothing
    await fs.chmod(dir, 0o711);
    await fs.chmod(runDir, 0o711);
    await fs.chmod(launcher.socketPath, 0o666);
    try {
      // closed without a word (a reset or a broken pipe when it closed before the ping was read)
      const r = asStudent(launcher.socketPath);
      expect(r.stdout.trim(), r.stderr).toMatch(/^(answer b''|closed (104|32))$/);
    } finally {
      await fs.chmod(dir, 0o700);
      await fs.chmod(runDir, 0o700);
      await fs.chmod(launcher.socketPath, 0o600);
    }
    await waitFor('the refusal in the launcher log', () => readFileSync(join(logDir, 'launcher.log'), 'utf8').includes(`refused a connection from uid ${student.uid}`), 5_000);
    // and it still serves root
    expect((await launcher.ping()).pid).toBe(launcher.pid);
  });
});
