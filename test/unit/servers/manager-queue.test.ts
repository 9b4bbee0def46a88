/**
 * ServerManager with the class-start queue, against a fake spawner (its starts finish when the test
 * says) and a real HTTP listener as every server's target, so the manager's own readiness probe runs.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Account } from '../../../hub/auth/accounts.js';
import { parseConfig } from '../../../hub/config.js';
import { createLogger } from '../../../hub/log.js';
import type { ProxyClient, Route } from '../../../hub/proxy/types.js';
import { ServerManager, SPAWN_FAILURES_KEPT } from '../../../hub/servers/manager.js';
import type { ProgressMessage } from '../../../hub/servers/progress.js';
import type { PollResult, Spawner, StartOptions, StartedServer } from '../../../hub/spawner/types.js';
import { Store } from '../../../hub/store/store.js';
import { TokenStore } from '../../../hub/tokens/token-store.js';

class FakeSpawner implements Spawner {
  readonly kind = 'fake';
  readonly started: string[] = [];
  private readonly pending = new Map<string, { resolve: (s: StartedServer) => void; reject: (e: Error) => void }>();
  constructor(private readonly target: string) {}

  start(o: StartOptions): Promise<StartedServer> {
    this.started.push(o.account.name);
    return new Promise((resolve, reject) => this.pending.set(o.account.name, { resolve, reject }));
  }
  /** Lets the user's start finish (the server then answers at once). */
  finish(user: string): void {
    this.pending.get(user)!.resolve({ target: this.target, state: { user } });
    this.pending.delete(user);
  }
  fail(user: string, message: string): void {
    this.pending.get(user)!.reject(new Error(message));
    this.pending.delete(user);
  }
  async poll(): Promise<PollResult> {
    return { running: true };
  }
  async stop(): Promise<void> {}
  async logTail(): Promise<string[]> {
    return [];
  }
  async close(): Promise<void> {}
}

class FakeProxy implements ProxyClient {
  readonly routes: Record<string, Route> = {};
  async getRoutes() {
    return this.routes;
  }
  async addRoute(prefix: string, target: string, data: Route['data']) {
    this.routes[prefix] = { target, data, last_activity: null };
  }
  async deleteRoute(prefix: string) {
    delete this.routes[prefix];
  }
}

const account = (name: string): Account => ({ name, uid: 2000, gid: 2000, groups: [2000], groupNames: [name], home: '/tmp', shell: '/bin/sh', locked: false, expired: false });

let http: Server;
let target: string;
let manager: ServerManager;
let spawner: FakeSpawner;
let proxy: FakeProxy;
let store: Store;
let logLines: string[];

beforeEach(async () => {
  http = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  target = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await manager?.close();
  await store?.close();
  await new Promise((r) => http.close(r));
});

async function setup(spawnerConfig: Record<string, unknown>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'labhub-mq-'));
  const config = parseConfig({ dataDir, spawner: spawnerConfig });
  store = await Store.open(dataDir);
  spawner = new FakeSpawner(target);
  proxy = new FakeProxy();
  logLines = [];
  const log = createLogger({ name: 'test', level: 'info', stderr: false, stream: { write: (l: string) => logLines.push(l) } });
  manager = new ServerManager({
    config,
    store,
    tokens: new TokenStore(store),
    spawner,
    proxy,
    log,
    hubApiUrl: () => 'http://127.0.0.1:1/hub/api',
    hubTarget: () => 'http://127.0.0.1:1',
    lookup: async (name) => account(name),
  });
}

/** Spawns and records every progress event of each user. */
function spawnAll(users: string[]): Map<string, ProgressMessage[]> {
  const events = new Map<string, ProgressMessage[]>();
  for (const u of users) {
    events.set(u, []);
    manager.spawn(u).subscribe((e) => events.get(u)!.push(e));
  }
  return events;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits for the spawn's ready event (the record says running a moment before). */
const readyOf = (user: string) => until(() => !!manager.progress(user)?.events.at(-1)?.ready);

const users = (n: number) => Array.from({ length: n }, (_, i) => `u${i + 1}`);

describe('ServerManager class-start queue', () => {
  it('starts `concurrency` at once, the rest in arrival order, telling each its real place', async () => {
    await setup({ concurrency: 2 });
    const names = users(5);
    const events = spawnAll(names);
    await until(() => spawner.started.length === 2);
    expect(spawner.started).toEqual(['u1', 'u2']);
    await until(() => manager.counts().queued === 3);
    expect(manager.counts()).toEqual({ running: 0, starting: 2, queued: 3 });
    expect(manager.queuePosition('u5')?.position).toBe(3);
    expect(manager.queuePosition('u1')).toBeNull();
    expect(events.get('u5')!.at(-1)).toMatchObject({ progress: 2, message: expect.stringMatching(/^Waiting to start: you are number 3 in line \(about \d+ s\)$/), queue: { position: 3 } });

    spawner.finish('u2');
    await until(() => spawner.started.length === 3);
    expect(spawner.started[2]).toBe('u3');
    await readyOf('u2');
    expect(events.get('u5')!.filter((e) => e.queue).map((e) => e.queue!.position)).toEqual([3, 2]);
    expect(events.get('u5')!.at(-1)!.progress).toBeGreaterThan(2);
    // a late subscriber replays only the current place, not every step down the line
    const replay: ProgressMessage[] = [];
    manager.progress('u5')!.subscribe((e) => replay.push(e));
    expect(replay.filter((e) => e.queue).map((e) => e.queue!.position)).toEqual([2]);

    for (const u of ['u1', 'u3', 'u4', 'u5']) {
      await until(() => spawner.started.includes(u));
      spawner.finish(u);
      await readyOf(u);
    }
    expect(spawner.started).toEqual(names);
    expect(manager.counts()).toEqual({ running: 5, starting: 0, queued: 0 });
    for (const u of names) expect(events.get(u)!.at(-1)).toMatchObject({ ready: true, url: `/user/${u}/` });
    expect(events.get('u1')!.some((e) => e.queue)).toBe(false);
    // the log ties each spawn's arrival number to its start and readiness
    const seqOf = (msg: string) => logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === msg).map((l) => `${l.user}:${l.seq}`);
    expect(seqOf('spawn starting')).toEqual(names.map((u, i) => `${u}:${i + 1}`));
    expect(seqOf('spawn queued')).toEqual(['u3:3', 'u4:4', 'u5:5']);
  });

  it('a failed start frees its slot, is recorded for the admin (last 100 kept) and logged at warn', async () => {
    await setup({ concurrency: 1 });
    store.data.spawnFailures = Array.from({ length: SPAWN_FAILURES_KEPT }, (_, i) => ({ user: 'old', at: new Date(i).toISOString(), reason: `old ${i}` }));
    const events = spawnAll(['u1', 'u2']);
    await until(() => spawner.started.length === 1);
    spawner.fail('u1', 'boom');
    await until(() => spawner.started.length === 2);
    expect(events.get('u1')!.at(-1)).toMatchObject({ failed: true, message: 'Spawn failed: Internal error: boom' });
    expect(manager.record('u1')?.status).toBe('failed');
    expect(manager.spawnError('u1')?.code).toBe('HUB_ERR_SPAWN_FAILED');
    expect(store.data.spawnFailures).toHaveLength(SPAWN_FAILURES_KEPT);
    expect(store.data.spawnFailures.at(-1)).toMatchObject({ user: 'u1', reason: 'Internal error: boom' });
    expect(store.data.spawnFailures[0]!.reason).toBe('old 1');
    const warn = logLines.map((l) => JSON.parse(l)).find((l) => l.level === 40 && l.msg === 'spawn failed');
    expect(warn).toMatchObject({ user: 'u1', reason: 'Internal error: boom' });
    spawner.finish('u2');
    await readyOf('u2');
  });

  it('a queued spawn that is stopped leaves the line cleanly: never started, not a failure, the others move up', async () => {
    await setup({ concurrency: 1 });
    const events = spawnAll(['u1', 'u2', 'u3']);
    await until(() => manager.counts().queued === 2);
    await manager.stop('u2', null);
    expect(events.get('u2')!.at(-1)).toMatchObject({ failed: true, message: 'The start was cancelled.' });
    expect(manager.record('u2')).toMatchObject({ status: 'stopped', stopReason: null });
    expect(manager.isPending('u2')).toBe(false);
    expect(manager.queuePosition('u3')?.position).toBe(1);
    expect(events.get('u3')!.filter((e) => e.queue).map((e) => e.queue!.position)).toEqual([2, 1]);
    expect(store.data.spawnFailures).toEqual([]);
    spawner.finish('u1');
    await until(() => spawner.started.length === 2);
    expect(spawner.started).toEqual(['u1', 'u3']);
    spawner.finish('u3');
    await readyOf('u3');
    // and the student can start again
    manager.spawn('u2');
    await until(() => spawner.started.length === 3);
    spawner.finish('u2');
    await readyOf('u2');
  });

  it('an admin stopping a queued spawn leaves the reason for the student', async () => {
    await setup({ concurrency: 1 });
    spawnAll(['u1', 'u2']);
    await until(() => manager.counts().queued === 1);
    await manager.stop('u2', 'Your server was stopped by teacher.');
    expect(manager.record('u2')).toMatchObject({ status: 'stopped', stopReason: 'Your server was stopped by teacher.' });
    spawner.finish('u1');
  });

  it('waitSpawn returns as soon as the spawn has to queue', async () => {
    await setup({ concurrency: 1 });
    spawnAll(['u1', 'u2']);
    const t0 = Date.now();
    await manager.waitSpawn('u2', 3000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(manager.queuePosition('u2')?.position).toBe(1);
    spawner.finish('u1');
  });

  it('refuses beyond activeServerLimit at once with a clear message: failed event, record, 503 error, admin record', async () => {
    await setup({ concurrency: 1, activeServerLimit: 3 });
    const events = spawnAll(['u1', 'u2', 'u3', 'u4']);
    const message = 'The lab has reached its limit of 3 running servers. Try again in a few minutes, or ask your instructor.';
    expect(events.get('u4')).toEqual([{ progress: 100, failed: true, message }]);
    expect(manager.spawnError('u4')).toMatchObject({ code: 'HUB_ERR_SPAWN_FAILED', status: 503, message });
    expect(manager.record('u4')).toMatchObject({ status: 'failed', stopReason: message });
    expect(manager.isPending('u4')).toBe(false);
    expect(store.data.spawnFailures).toEqual([expect.objectContaining({ user: 'u4', reason: message })]);
    // running servers count too: with 3 up, a 4th is still refused
    for (const u of ['u1', 'u2', 'u3']) {
      await until(() => spawner.started.includes(u));
      spawner.finish(u);
      await readyOf(u);
    }
    expect(manager.counts()).toEqual({ running: 3, starting: 0, queued: 0 });
    manager.spawn('u4');
    expect(manager.record('u4')?.status).toBe('failed');
    // after one stops there is room again
    await manager.stop('u1');
    manager.spawn('u4');
    await until(() => spawner.started.includes('u4'));
    spawner.finish('u4');
    await readyOf('u4');
  });

  it('closing the hub ends queued spawns without counting them as failures', async () => {
    await setup({ concurrency: 1 });
    const events = spawnAll(['u1', 'u2']);
    await until(() => manager.counts().queued === 1);
    const closing = manager.close();
    spawner.finish('u1');
    await closing;
    expect(events.get('u2')!.at(-1)).toMatchObject({ failed: true, message: 'Spawn failed: LabHub is shutting down.' });
    expect(events.get('u1')!.at(-1)).toMatchObject({ failed: true, message: 'Spawn failed: LabHub is shutting down.' });
    expect(store.data.spawnFailures).toEqual([]);
    expect(manager.counts()).toEqual({ running: 0, starting: 0, queued: 0 });
  });
});
