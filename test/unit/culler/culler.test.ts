import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Config } from '../../../hub/config.js';
import { describeDuration, idleReason, IdleCuller, maxAgeReason, type CullableServers } from '../../../hub/culler/culler.js';
import { createLogger } from '../../../hub/log.js';
import type { ProxyClient, Route } from '../../../hub/proxy/types.js';
import { emptyState, type ServerRecord, type ServerStatus, type State } from '../../../hub/store/state.js';

const T0 = Date.parse('2025-03-03T10:00:00.000Z');
const iso = (secondsAfterT0: number) => new Date(T0 + secondsAfterT0 * 1000).toISOString();

type CullerConfig = Config['culler'];
const defaults: CullerConfig = { enabled: true, idleTimeoutSeconds: 60, maxAgeSeconds: 0, cullAdmins: true, intervalSeconds: 1 };

/** A fake of the server manager: records live in the state; `stop` records the call and marks the server stopped. */
class FakeServers implements CullableServers {
  readonly stops: Array<{ user: string; reason: string | null }> = [];
  readonly pending = new Set<string>();
  readonly stopping = new Set<string>();
  failStop = false;

  constructor(private readonly state: State) {}

  record(user: string): ServerRecord | undefined {
    return this.state.servers[user];
  }

  isPending(user: string): boolean {
    return this.pending.has(user);
  }

  isStopping(user: string): boolean {
    return this.stopping.has(user);
  }

  async stop(user: string, reason: string | null = null): Promise<void> {
    this.stops.push({ user, reason });
    if (this.failStop) throw new Error('spawner refused');
    const rec = this.state.servers[user]!;
    rec.status = 'stopped';
    rec.stopReason = reason;
  }
}

/** A fake proxy: routes set by the test, or unreachable. */
class FakeProxy implements Pick<ProxyClient, 'getRoutes'> {
  routes: Record<string, Route> = {};
  down = false;
  calls = 0;

  async getRoutes(): Promise<Record<string, Route>> {
    this.calls++;
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:8001');
    return structuredClone(this.routes);
  }

  activity(user: string, at: string | null): void {
    this.routes[`/user/${user}/`] = { target: 'http://127.0.0.1:9999', data: { user, server_name: '' }, last_activity: at };
  }
}

function setup(config: Partial<CullerConfig> = {}) {
  const state = emptyState();
  const commits = { count: 0 };
  const store = {
    data: state,
    commit: async () => {
      commits.count++;
    },
  };
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ name: 'culler-test', level: 'info', stderr: false, stream: { write: (l: string) => lines.push(JSON.parse(l)) } });
  const servers = new FakeServers(state);
  const proxy = new FakeProxy();
  const culler = new IdleCuller({ config: { ...defaults, ...config }, store, servers, proxy, log });
  const addServer = (user: string, o: { started?: number; last?: number | null; status?: ServerStatus; admin?: boolean } = {}) => {
    state.users[user] = { name: user, created: iso(-86_400), lastActivity: o.last == null ? null : iso(o.last), admin: o.admin ?? false };
    state.servers[user] = {
      user,
      name: '',
      status: o.status ?? 'running',
      spawner: 'local',
      state: {},
      target: 'http://127.0.0.1:9999',
      started: iso(o.started ?? 0),
      lastActivity: o.last == null ? null : iso(o.last),
      stoppedAt: null,
      stopReason: null,
      tokenId: null,
    };
  };
  return { state, commits, lines, servers, proxy, culler, addServer };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('IdleCuller decisions (fake proxy, fake server manager)', () => {
  it('stops a server idle longer than the timeout, with a reason the student reads, and logs user and idle seconds', async () => {
    const t = setup({ idleTimeoutSeconds: 60 });
    t.addServer('idle', { last: 0 });
    t.addServer('fresh', { last: 30 });
    const round = await t.culler.runOnce(T0 + 61_000);
    expect(round.culled).toEqual([{ user: 'idle', why: 'idle', idleSeconds: 61, ageSeconds: 61 }]);
    expect(t.servers.stops).toEqual([{ user: 'idle', reason: idleReason(60) }]);
    expect(t.state.servers.fresh!.status).toBe('running');
    expect(idleReason(3600)).toBe(
      'Your server was stopped after 60 minutes without activity, to free the machine for others. Your files are safe; start it again to continue.',
    );
    const line = t.lines.find((l) => l.msg === 'culling server');
    expect(line).toMatchObject({ level: 30, user: 'idle', why: 'idle', idleSeconds: 61 });
  });

  it('counts a server that never reported activity as idle since it started', async () => {
    const t = setup({ idleTimeoutSeconds: 60 });
    t.addServer('quiet', { started: 0, last: null });
    expect((await t.culler.runOnce(T0 + 59_000)).culled).toEqual([]);
    expect((await t.culler.runOnce(T0 + 61_000)).culled.map((c) => c.user)).toEqual(['quiet']);
  });

  it('moves server and user activity forward from the proxy route, commits once, and then does not cull', async () => {
    const t = setup({ idleTimeoutSeconds: 60 });
    t.addServer('busy', { last: 0 });
    t.addServer('other', { last: 0 });
    t.proxy.activity('busy', iso(100));
    t.proxy.activity('other', iso(110));
    const round = await t.culler.runOnce(T0 + 120_000);
    expect(round.culled).toEqual([]);
    expect(round.activityFromProxy.sort()).toEqual(['busy', 'other']);
    expect(t.state.servers.busy!.lastActivity).toBe(iso(100));
    expect(t.state.users.busy!.lastActivity).toBe(iso(100));
    expect(t.commits.count).toBe(1);
    expect(t.proxy.calls).toBe(1);
  });

  it('never moves activity back: an older route time leaves the newer server report in place', async () => {
    const t = setup({ idleTimeoutSeconds: 60 });
    t.addServer('alice', { last: 100 });
    t.proxy.activity('alice', iso(10));
    const round = await t.culler.runOnce(T0 + 120_000);
    expect(round.activityFromProxy).toEqual([]);
    expect(round.culled).toEqual([]);
    expect(t.state.servers.alice!.lastActivity).toBe(iso(100));
    expect(t.state.users.alice!.lastActivity).toBe(iso(100));
    expect(t.commits.count).toBe(0);
  });

  it('ignores a route that was never used and routes of other users', async () => {
    const t = setup({ idleTimeoutSeconds: 60 });
    t.addServer('alice', { last: 0 });
    t.proxy.activity('alice', null);
    t.proxy.activity('bob', iso(100));
    expect((await t.culler.runOnce(T0 + 61_000)).culled.map((c) => c.user)).toEqual(['alice']);
    expect(t.state.users.bob).toBeUndefined();
  });

  it('stops a server older than maxAgeSeconds even when it is busy, with its own reason; 0 means never', async () => {
    const t = setup({ idleTimeoutSeconds: 600, maxAgeSeconds: 3600 });
    t.addServer('old', { started: 0, last: 3650 });
    t.addServer('young', { started: 100, last: 3650 });
    const round = await t.culler.runOnce(T0 + 3660_000);
    expect(round.culled).toEqual([{ user: 'old', why: 'max-age', idleSeconds: 10, ageSeconds: 3660 }]);
    expect(t.servers.stops).toEqual([{ user: 'old', reason: maxAgeReason(3600) }]);
    expect(maxAgeReason(8 * 3600)).toContain('running for 8 hours');

    const never = setup({ idleTimeoutSeconds: 600, maxAgeSeconds: 0 });
    never.addServer('old', { started: -1e6, last: 3650 });
    expect((await never.culler.runOnce(T0 + 3660_000)).culled).toEqual([]);
  });

  it('exempts admins unless cullAdmins is set', async () => {
    const exempt = setup({ idleTimeoutSeconds: 60, cullAdmins: false });
    exempt.addServer('teacher', { last: 0, admin: true });
    exempt.addServer('student', { last: 0 });
    expect((await exempt.culler.runOnce(T0 + 120_000)).culled.map((c) => c.user)).toEqual(['student']);

    const all = setup({ idleTimeoutSeconds: 60, cullAdmins: true });
    all.addServer('teacher', { last: 0, admin: true });
    expect((await all.culler.runOnce(T0 + 120_000)).culled.map((c) => c.user)).toEqual(['teacher']);
  });

  it('leaves servers that are starting, stopping or not running alone', async () => {
    const t = setup({ idleTimeoutSeconds: 60 });
    t.addServer('starting', { last: 0 });
    t.servers.pending.add('starting');
    t.addServer('leaving', { last: 0 });
    t.servers.stopping.add('leaving');
    t.addServer('pendingrec', { last: 0, status: 'pending' });
    t.addServer('gone', { last: 0, status: 'stopped' });
    t.addServer('broken', { last: 0, status: 'failed' });
    expect((await t.culler.runOnce(T0 + 120_000)).culled).toEqual([]);
    expect(t.servers.stops).toEqual([]);
  });

  it('an unreachable proxy means no proxy activity this round: warns, uses what the hub has, does not throw', async () => {
    const t = setup({ idleTimeoutSeconds: 60 });
    t.addServer('idle', { last: 0 });
    t.addServer('reported', { last: 100 });
    t.proxy.down = true;
    const round = await t.culler.runOnce(T0 + 120_000);
    expect(round.culled.map((c) => c.user)).toEqual(['idle']);
    expect(t.lines.some((l) => l.level === 40 && String(l.msg).includes('proxy activity'))).toBe(true);
  });

  it('a stop that fails is logged and the round still completes', async () => {
    const t = setup({ idleTimeoutSeconds: 60 });
    t.addServer('a', { last: 0 });
    t.addServer('b', { last: 0 });
    t.servers.failStop = true;
    const round = await t.culler.runOnce(T0 + 120_000);
    expect(round.culled.map((c) => c.user).sort()).toEqual(['a', 'b']);
    expect(t.lines.filter((l) => l.msg === 'could not cull server')).toHaveLength(2);
  });

  it('does nothing when disabled', async () => {
    vi.useFakeTimers({ now: T0 + 120_000 });
    const t = setup({ enabled: false, idleTimeoutSeconds: 60 });
    t.addServer('idle', { last: 0 });
    t.culler.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await t.culler.runOnce()).toEqual({ activityFromProxy: [], culled: [] });
    expect(t.proxy.calls).toBe(0);
    expect(t.servers.stops).toEqual([]);
    await t.culler.close();
  });

  it('start() runs a round every intervalSeconds and close() ends them', async () => {
    vi.useFakeTimers({ now: T0 });
    const t = setup({ idleTimeoutSeconds: 60, intervalSeconds: 10 });
    t.addServer('alice', { last: 0 });
    t.culler.start();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(t.proxy.calls).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.proxy.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.proxy.calls).toBe(7);
    expect(t.servers.stops.map((s) => s.user)).toEqual(['alice']);
    await t.culler.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.proxy.calls).toBe(7);
  });
});

describe('describeDuration', () => {
  it('says a duration in whole units', () => {
    expect(describeDuration(1)).toBe('1 second');
    expect(describeDuration(8)).toBe('8 seconds');
    expect(describeDuration(300)).toBe('5 minutes');
    expect(describeDuration(3600)).toBe('60 minutes');
    expect(describeDuration(8 * 3600)).toBe('8 hours');
    expect(describeDuration(3 * 86_400)).toBe('3 days');
  });
});
