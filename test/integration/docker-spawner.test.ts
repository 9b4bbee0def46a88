/**
 * The Docker spawner with the real parts: a real dockerd, the locally built single-user image,
 * real Linux users (one in a supplementary group), real kernels over their websocket. The hub API
 * is test/helpers/fake-hub-api.ts; the ServerManager and store are the real ones for what the
 * student and the admin are told. Acceptance 2, 4 (homes) and 5 of issue 7; 1 and 3 run through
 * the whole hub in test/e2e/docker-notebook.test.ts.
 *
 * "Docker stopped" is played by a unix-socket forwarder to the real daemon that the test closes
 * and reopens (as a daemon restarted with live-restore looks to the hub): the real dockerd is
 * shared with the rest of the suite and is not stopped.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupAccount, type Account } from '../../hub/auth/accounts.js';
import { parseConfig } from '../../hub/config.js';
import { HubError } from '../../hub/errors.js';
import { silentLogger } from '../../hub/log.js';
import type { ServerLimits } from '../../hub/quota/cgroup-values.js';
import { ServerManager } from '../../hub/servers/manager.js';
import { DockerSpawner, parseDockerState } from '../../hub/spawner/docker.js';
import { prepareDockerSpawner } from '../../hub/spawner/docker/from-config.js';
import { Store } from '../../hub/store/store.js';
import { TokenStore } from '../../hub/tokens/token-store.js';
import { ensureDockerAndImage, IMAGE_BUILD_TIMEOUT_MS, inspectContainer, removeUserContainers, TEST_IMAGE, docker } from '../helpers/docker.js';
import { singleUserHubEnv, startFakeHubApi, type FakeHubApi } from '../helpers/fake-hub-api.js';
import { createTestUser, removeAllTestUsers, removeGroup, type TestUser } from '../helpers/linux-users.js';
import { LabhubProcess, LABHUB_MAIN } from '../helpers/labhub-process.js';
import { KernelChannel, serverApi } from '../helpers/jupyter.js';
import { runningRecord } from '../helpers/server-record.js';
import { waitFor } from '../helpers/wait.js';

const MB = 1024 * 1024;
const GROUP = 'lhtestdkclass';
const START_TIMEOUT_MS = 60_000;

let hub: FakeHubApi;
let dataDir: string;
let courseData: string;
let store: Store;
let manager: ServerManager;
let spawner: DockerSpawner;
let alice: TestUser;
let bob: TestUser;
const tokens = new Map<string, string>();
const accounts = new Map<string, Account>();
const limits = new Map<string, ServerLimits>();
const sockets: WebSocket[] = [];


function spawnerFor(o: Partial<ConstructorParameters<typeof DockerSpawner>[0]> = {}): DockerSpawner {
  return new DockerSpawner({
    socketPath: '/var/run/docker.sock',
    image: TEST_IMAGE,
    network: 'host',
    volumes: [{ source: courseData, target: '/srv/data', readOnly: true }],
    environment: { JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp' },
    path: '/usr/local/bin:/usr/bin:/bin',
    cmd: ['jupyterhub-singleuser'],
    args: [],
    removeOnStop: true,
    allowRoot: false,
    pidsLimit: 512,
    stopGraceSeconds: 5,
    logDir: join(dataDir, 'logs'),
    stateDir: join(dataDir, 'docker'),
    hubId: 'lhtest-docker-spawner',
    cgroupParent: 'auto',
    logger: silentLogger(),
    limitsFor: async (account) => limits.get(account.name) ?? { memory: 0, cpus: 0 },
    ...o,
  });
}

async function startFor(user: string, using = spawner): Promise<{ target: string; state: Record<string, unknown> }> {
  const events: string[] = [];
  const started = await using.start({
    account: accounts.get(user)!,
    env: singleUserHubEnv(user, hub.apiUrl, tokens.get(user)),
    prefix: `/user/${user}/`,
    onProgress: (e) => events.push(e.message),
  });
  expect(events).toEqual([`Checking the server image ${TEST_IMAGE}`, 'Creating your container', 'Starting your container', `Container labhub-${user} started; waiting for your server to answer`]);
  store.data.servers[user] = runningRecord(user, 'docker', started);
  return started;
}

const api = (target: string, user: string, path: string, init: RequestInit = {}) => serverApi(target, user, tokens.get(user)!, path, init);

async function waitAnswering(target: string, user: string): Promise<void> {
  await waitFor('the server to answer', () => api(target, user, 'status').then((r) => r.status === 200, () => false), START_TIMEOUT_MS, 100);
}

/** A kernel and its websocket, authenticated with the server's API token. */
async function openKernel(target: string, user: string): Promise<{ run: (code: string, timeoutMs?: number) => Promise<string>; statuses: string[] }> {
  const res = await api(target, user, 'kernels', { method: 'POST', body: JSON.stringify({ name: 'python3' }) });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { id: string }).id;
  const ch = await KernelChannel.connect(`${target.replace(/^http/, 'ws')}/user/${user}/api/kernels/${id}/channels`, { authorization: `token ${tokens.get(user)}` });
  sockets.push(ch.ws);
  return { run: (code: string, timeoutMs?: number) => ch.execute(code, timeoutMs), statuses: ch.statuses };
}

/** A unix socket that forwards to the real Docker socket until it is closed ("Docker stopped"). */
class DockerSocketForwarder {
  private server: Server | null = null;
  private readonly conns = new Set<Socket>();
  constructor(readonly path: string) {}

  async open(): Promise<void> {
    rmSync(this.path, { force: true });
    this.server = createServer((client) => {
      const upstream = createConnection('/var/run/docker.sock');
      this.conns.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.conns.delete(client);
        this.conns.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.path, resolve));
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root (real users, dockerd)');
  ensureDockerAndImage();
  dataDir = mkdtempSync(join(tmpdir(), 'labhub-docker-'));
  courseData = join(dataDir, 'course-data');
  mkdirSync(courseData);
  writeFileSync(join(courseData, 'dataset.csv'), 'a,b\n1,2\n');
  alice = createTestUser('dk1', { groups: [GROUP] });
  bob = createTestUser('dk2');
  for (const u of [alice, bob]) {
    tokens.set(u.name, randomUUID().replace(/-/g, ''));
    const account = await lookupAccount(u.name);
    if (!account) throw new Error(`test user ${u.name} not found`);
    accounts.set(u.name, account);
  }
  limits.set(alice.name, { memory: 300 * MB, cpus: 0.5 });
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
}, IMAGE_BUILD_TIMEOUT_MS);

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await manager?.close();
  await spawner?.close();
  await hub?.close();
  removeUserContainers([alice, bob].filter(Boolean).map((u) => u.name));
  removeAllTestUsers();
  removeGroup(GROUP);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('Docker spawner (real dockerd, locally built image)', () => {
  let aliceTarget = '';
  let aliceKernel: Awaited<ReturnType<typeof openKernel>>;

  it('runs the server as the student with their groups in their home; only their home is mounted; docker inspect shows limits and lock-down', async () => {
    const a = await startFor(alice.name);
    aliceTarget = a.target;
    const b = await startFor(bob.name);
    await Promise.all([waitAnswering(a.target, alice.name), waitAnswering(b.target, bob.name)]);
    const account = accounts.get(alice.name)!;
    const groupGid = account.groups[account.groupNames.indexOf(GROUP)]!;
    expect(groupGid).toBeGreaterThan(0);

    const info = inspectContainer(`labhub-${alice.name}`);
    expect(info.Id).toBe(parseDockerState(a.state)!.containerId);
    expect(info.Config.User).toBe(`${alice.uid}:${alice.gid}`);
    expect(info.Config.WorkingDir).toBe(alice.home);
    expect(info.Config.Labels).toMatchObject({ 'org.labhub.user': alice.name, 'org.labhub.managed': 'true' });
    expect(info.HostConfig.Memory).toBe(300 * MB);
    expect(info.HostConfig.MemorySwap).toBe(300 * MB);
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.PidsLimit).toBe(512);
    expect(info.HostConfig.GroupAdd).toContain(String(groupGid));
    expect(info.HostConfig.CapDrop).toContain('ALL');
    expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
    // auto: each container its own CPU weight under the cgroupfs driver
    expect(info.HostConfig.CgroupParent).toBe(docker('info', '--format', '{{.CgroupDriver}}') === 'cgroupfs' ? '/' : '');
    const mounts = (info.Mounts as Array<{ Source: string; Destination: string; RW: boolean }>).map((m) => `${m.Source}:${m.Destination}:${m.RW ? 'rw' : 'ro'}`);
    expect(mounts.sort()).toEqual([
      `${alice.home}:${alice.home}:rw`,
      `${courseData}:/srv/data:ro`,
      `${join(dataDir, 'docker', alice.name, 'group')}:/etc/group:ro`,
      `${join(dataDir, 'docker', alice.name, 'passwd')}:/etc/passwd:ro`,
    ].sort());
    // the environment is the hub's and the user's only: nothing of the hub process's own
    const env = info.Config.Env as string[];
    expect(env).toContain('PATH=/usr/local/bin:/usr/bin:/bin');
    expect(env).toContain(`HOME=${alice.home}`);
    expect(env.some((e) => e.startsWith('LABHUB_') || e.startsWith('npm_'))).toBe(false);

    // the running server's output reaches the user's log file as it comes (the admin's Logs view)
    const logFile = join(dataDir, 'logs', 'users', `${alice.name}.log`);
    await waitFor('the output in the user log', () => readFileSync(logFile, 'utf8').includes('is running at'), 10_000);

    aliceKernel = await openKernel(a.target, alice.name);
    const out = await aliceKernel.run([
      'import os, pwd',
      'print("ID", os.getuid(), os.getgid(), sorted(os.getgroups()), os.getcwd(), pwd.getpwuid(os.getuid()).pw_name)',
      'open("made-in-container.txt", "w").write("hello")',
      `print("OTHER", os.path.exists(${JSON.stringify(bob.home)}), sorted(os.listdir("/home")))`,
      'print("DATA", open("/srv/data/dataset.csv").read().splitlines()[0])',
      'try:\n    open("/srv/data/x", "w")\nexcept OSError as e:\n    print("RO", e.errno)',
    ].join('\n'));
    const expectedGroups = [...new Set(account.groups)].sort((x, y) => x - y);
    expect(out).toContain(`ID ${alice.uid} ${alice.gid} [${expectedGroups.join(', ')}] ${alice.home} ${alice.name}`);
    expect(out).toContain(`OTHER False ['${alice.name}']`);
    expect(out).toContain('DATA a,b');
    expect(out).toContain('RO 30'); // EROFS
    const st = statSync(join(alice.home, 'made-in-container.txt'));
    expect([st.uid, st.gid]).toEqual([alice.uid, alice.gid]);
    expect(await manager.check(alice.name)).toBe(true);
  }, 180_000);

  it('a cell allocating past the memory limit is killed and reported; the server and the other student carry on', async () => {
    void aliceKernel.run('x = bytearray(600 * 1024 * 1024)\nprint("survived")', 60_000).catch(() => undefined);
    await waitFor('the kernel to be killed and restarted', () => aliceKernel.statuses.includes('restarting') || aliceKernel.statuses.includes('dead'), 60_000);
    expect(await manager.check(alice.name)).toBe(true);
    const rec = store.data.servers[alice.name]!;
    expect(rec.notice).toContain('Your kernel ran out of memory (limit 300 MB)');
    expect(store.data.spawnFailures.filter((f) => f.user === alice.name).map((f) => f.reason)).toEqual([rec.notice]);
    // reported once
    expect(await manager.check(alice.name)).toBe(true);
    expect(store.data.spawnFailures.filter((f) => f.user === alice.name)).toHaveLength(1);
    expect(await manager.check(bob.name)).toBe(true);
    expect(store.data.servers[bob.name]!.notice).toBeUndefined();
    // the server still answers
    expect((await api(aliceTarget, alice.name, 'status')).status).toBe(200);
  }, 120_000);

  it('stopping removes the container and keeps its output in the user log', async () => {
    const rec = store.data.servers[bob.name]!;
    await spawner.stop(bob.name, rec.state);
    expect(inspectContainer(`labhub-${bob.name}`)).toBeNull();
    const log = readFileSync(join(dataDir, 'logs', 'users', `${bob.name}.log`), 'utf8');
    expect(log).toMatch(/\[labhub\] .* starting container labhub-lhtestdk2/);
    expect(log).toMatch(/\[labhub\] .* output of container labhub-lhtestdk2/);
    expect(log).toContain('Starting jupyterhub single-user server');
    rec.status = 'stopped';
    // stopping again (or a container already gone) is fine
    await spawner.stop(bob.name, rec.state);
  }, 60_000);

  it('a server that itself runs out of memory is reported as out of memory (exit 137)', async () => {
    limits.set(bob.name, { memory: 100 * MB, cpus: 0 });
    const s = spawnerFor({ cmd: ['python3', '-c', 'import time; x = bytearray(400 * 1024 * 1024); time.sleep(30)'] });
    try {
      const started = await startFor(bob.name, s);
      const poll = await waitFor('the container to end', async () => {
        const p = await s.poll(bob.name, started.state);
        return p.running ? false : p;
      }, 30_000, 200);
      expect(poll).toMatchObject({ running: false, exitCode: 137, outOfMemory: true });
      expect(poll.running === false && poll.reason).toContain('it ran out of memory (limit 100 MB)');
      // removed after its end was read (removeOnStop)
      expect(inspectContainer(`labhub-${bob.name}`)).toBeNull();
    } finally {
      limits.delete(bob.name);
      await s.close();
    }
  }, 60_000);

  it('a container that exits says why, with its last log lines', async () => {
    const s = spawnerFor({ cmd: ['sh', '-c', 'echo "cannot find my notebook config" >&2; exit 3'] });
    try {
      const started = await startFor(bob.name, s);
      const poll = await waitFor('the container to end', async () => {
        const p = await s.poll(bob.name, started.state);
        return p.running ? false : p;
      }, 30_000, 200);
      expect(poll).toMatchObject({ running: false, exitCode: 3 });
      expect(poll.running === false && poll.reason).toMatch(/^Container labhub-lhtestdk2 exited with code 3\. Last lines of the log:\ncannot find my notebook config/);
    } finally {
      await s.close();
    }
  }, 60_000);

  it('on a bridge network the port is published on 127.0.0.1 only (and cgroupParent places the container)', async () => {
    const s = spawnerFor({ network: 'bridge', cgroupParent: '/' });
    try {
      const started = await startFor(bob.name, s);
      const port = parseDockerState(started.state)!.port;
      expect(started.target).toBe(`http://127.0.0.1:${port}`);
      const info = inspectContainer(`labhub-${bob.name}`);
      expect(info.HostConfig.NetworkMode).toBe('bridge');
      expect(info.HostConfig.PortBindings).toEqual({ '8888/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
      expect(docker('port', `labhub-${bob.name}`)).toBe(`8888/tcp -> 127.0.0.1:${port}`);
      expect(info.HostConfig.CgroupParent).toBe('/');
      expect(readFileSync(`/proc/${info.State.Pid}/cgroup`, 'utf8')).toMatch(new RegExp(`:cpu(,cpuacct)?:/${info.Id}$|^0::/${info.Id}`, 'm'));
      await s.stop(bob.name, started.state);
    } finally {
      await s.close();
    }
  }, 60_000);

  it('a missing image is a clear error at spawn and at start-up validation, naming the build command', async () => {
    const s = spawnerFor({ image: 'labhub/not-built:none' });
    try {
      const err = await startFor(bob.name, s).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(HubError);
      expect(err).toMatchObject({ code: 'HUB_ERR_DOCKER_IMAGE_MISSING', status: 503 });
      expect((err as Error).message).toBe(
        'The server image labhub/not-built:none is not on the LabHub server, so your server cannot start. The lab admin must build it once with: labhub image build',
      );
      await expect(prepareDockerSpawner(s, {}, silentLogger(), 1)).rejects.toThrow(
        'spawner.docker.image: The server image labhub/not-built:none is not on the LabHub server, so no server can start. The lab admin must build it once with: labhub image build',
      );
      expect(inspectContainer(`labhub-${bob.name}`)).toBeNull();
    } finally {
      await s.close();
    }
  });

  it('a hub configured for a missing image does not start, and says how to build it', async () => {
    const lab = await new LabhubProcess({ config: { spawner: { kind: 'docker', docker: { image: 'labhub/not-built:none' } } } }).init();
    const r = spawnSync(process.execPath, [LABHUB_MAIN, 'hub', '--config', lab.configFile], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('labhub: spawner.docker.image: The server image labhub/not-built:none is not on the LabHub server, so no server can start. The lab admin must build it once with: labhub image build');
    rmSync(lab.dataDir, { recursive: true, force: true });
  }, 60_000);

  it('Docker not running: spawns fail at once with the documented message; running servers are left alone and picked up when it is back', async () => {
    const forwarder = new DockerSocketForwarder(join(dataDir, 'docker-fwd.sock'));
    await forwarder.open();
    const s = spawnerFor({ socketPath: forwarder.path, apiTimeoutSeconds: 5 });
    try {
      limits.set(bob.name, { memory: 0, cpus: 0 });
      const started = await startFor(bob.name, s);
      await waitAnswering(started.target, bob.name);
      await forwarder.close();

      // answers at once (ENOENT on the socket); a daemon that hangs is cut off after apiTimeoutSeconds
      const err = await s.start({ account: accounts.get(bob.name)!, env: singleUserHubEnv(bob.name, hub.apiUrl, tokens.get(bob.name)), prefix: `/user/${bob.name}/`, onProgress: () => undefined }).then(() => null, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'HUB_ERR_DOCKER_UNAVAILABLE', status: 503 });
      expect((err as Error).message).toContain(`Docker is not running on the LabHub server (no answer from ${forwarder.path})`);
      // poll cannot tell: it throws, and a hub's watcher keeps the record as it is
      await expect(s.poll(bob.name, started.state)).rejects.toMatchObject({ code: 'HUB_ERR_DOCKER_UNAVAILABLE' });
      await expect(s.stop(bob.name, started.state)).rejects.toMatchObject({ code: 'HUB_ERR_DOCKER_UNAVAILABLE' });
      // a hub starting meanwhile waits for Docker, then starts anyway (no throw)
      await prepareDockerSpawner(s, {}, silentLogger(), 1);

      await forwarder.open();
      expect(await s.poll(bob.name, started.state)).toEqual({ running: true });
      expect((await api(started.target, bob.name, 'status')).status).toBe(200);
      await s.stop(bob.name, started.state);
      expect(inspectContainer(`labhub-${bob.name}`)).toBeNull();
    } finally {
      await forwarder.close();
      await s.close();
    }
  }, 90_000);

  it('through the hub: Docker stopped → the start API answers 503 with the documented message at once; back → the start works', async () => {
    const forwarder = new DockerSocketForwarder(join(dataDir, 'hub-docker.sock'));
    await forwarder.open();
    const lab = await new LabhubProcess({ config: { spawner: { kind: 'docker', docker: { socketPath: forwarder.path } } } }).init();
    try {
      await lab.startServe();
      const { token } = JSON.parse(readFileSync(join(lab.dataDir, 'data', 'cli-token'), 'utf8')) as { token: string };
      const call = (method: string, path: string) =>
        fetch(`${lab.publicUrl}/hub/api${path}`, { method, headers: { authorization: `token ${token}` }, signal: AbortSignal.timeout(30_000) });
      expect((await call('POST', `/users/${bob.name}`)).status).toBe(201);

      await forwarder.close();
      const refused = await call('POST', `/users/${bob.name}/server`);
      expect(refused.status).toBe(503);
      const body = (await refused.json()) as { status: number; message: string };
      expect(body.status).toBe(503);
      expect(body.message).toContain(`Docker is not running on the LabHub server (no answer from ${forwarder.path})`);
      expect(lab.state().servers[bob.name]).toMatchObject({ status: 'failed' });

      await forwarder.open();
      const started = await call('POST', `/users/${bob.name}/server`);
      expect([201, 202]).toContain(started.status);
      await waitFor('the server to be ready', () => lab.state().servers[bob.name]?.status === 'running', 60_000, 200);
      expect(inspectContainer(`labhub-${bob.name}`)?.State.Running).toBe(true);
      expect([202, 204]).toContain((await call('DELETE', `/users/${bob.name}/server`)).status);
      await waitFor('the container to go', () => inspectContainer(`labhub-${bob.name}`) === null, 30_000, 200);
    } finally {
      await lab.stop();
      await forwarder.close();
      rmSync(lab.dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a new spawner (hub restarted) re-adopts the running container and removes containers no record owns', async () => {
    const rec = store.data.servers[alice.name]!;
    const again = spawnerFor();
    try {
      // (an OOM kill from before the "restart" is reported once more, as the local spawner does)
      expect(await again.poll(alice.name, rec.state)).toMatchObject({ running: true });
      expect(await again.poll(alice.name, rec.state)).toEqual({ running: true });
      // an orphan of this hub (a record lost with a crash): removed; the recorded one stays
      const orphan = docker('run', '-d', '--name', `labhub-${bob.name}`, '--label', 'org.labhub.hub=lhtest-docker-spawner', '--label', `org.labhub.user=${bob.name}`, '--network', 'none', TEST_IMAGE, 'sleep', '300');
      await prepareDockerSpawner(again, { [alice.name]: rec }, silentLogger(), 1);
      expect(inspectContainer(orphan)).toBeNull();
      expect(inspectContainer(`labhub-${alice.name}`)?.State.Running).toBe(true);
      await again.stop(alice.name, rec.state);
      expect(inspectContainer(`labhub-${alice.name}`)).toBeNull();
    } finally {
      await again.close();
    }
  }, 90_000);
});
