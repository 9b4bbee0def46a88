/**
 * Acceptance 4 of issue 3 with the real parts (PAM users, jupyterhub-singleuser, LabHub's proxy):
 * with an 8 s idle timeout, a server nobody uses is stopped and its owner is told why on the next
 * visit, while a server whose kernel prints every second stays up. The single-user server reports
 * activity to the hub only every 300 s, so what keeps the busy one alive is the proxy's record of
 * its websocket frames, read by the culler each round.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../helpers/browserless-client.js';
import { KernelChannel, openServer, startKernel, startServer } from '../helpers/jupyter.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';

const IDLE_TIMEOUT = 8;
const REASON = `Your server was stopped after ${IDLE_TIMEOUT} seconds without activity`;

let lab: LabhubProcess;
let busy: TestUser;
let idle: TestUser;
let busyClient: CookieClient;
let idleClient: CookieClient;
let channel: KernelChannel | null = null;
let cell: Promise<string> | null = null;
let cellStarted = 0;
let streamFrames = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const record = (user: string) => lab.state().servers[user] as { status: string; stopReason: string | null; lastActivity: string };

/** Polls the state file until the user's server is stopped; returns when, or null at the deadline. */
async function waitStopped(user: string, deadline: number): Promise<number | null> {
  while (Date.now() < deadline) {
    if (record(user)?.status === 'stopped') return Date.now();
    await sleep(200);
  }
  return null;
}

beforeAll(async () => {
  busy = createTestUser('culbusy');
  idle = createTestUser('culidle');
  lab = await new LabhubProcess({ config: { culler: { idleTimeoutSeconds: IDLE_TIMEOUT, intervalSeconds: 1 } } }).init();
  await lab.startServe();
  busyClient = new CookieClient(lab.publicUrl);
  idleClient = new CookieClient(lab.publicUrl);
  expect((await busyClient.login(busy.name, busy.password)).status).toBe(302);
  expect((await idleClient.login(idle.name, idle.password)).status).toBe(302);
});

afterAll(async () => {
  channel?.close();
  await lab?.stop();
  removeAllTestUsers();
});

describe('idle culling', () => {
  it('stops the idle server with a reason shown on the next visit; the one running a printing cell stays up', async () => {
    // the busy student: a kernel over the proxy, running a cell that prints every second for 30 s
    await startServer(busyClient, busy.name);
    await openServer(busyClient, busy.name);
    const kernel = await startKernel(busyClient, busy.name);
    channel = await KernelChannel.open(busyClient, busy.name, kernel);
    channel.ws.on('message', (data) => {
      if (JSON.parse(data.toString()).msg_type === 'stream') streamFrames++;
    });
    cellStarted = Date.now();
    cell = channel.execute('import time\nfor i in range(30):\n    print(i, flush=True); time.sleep(1)', 90_000);

    // the idle student starts a server and does nothing with it
    await startServer(idleClient, idle.name);
    const idleReady = Date.now();
    const stoppedAt = await waitStopped(idle.name, idleReady + 25_000);
    expect(stoppedAt, 'the idle server was not stopped within 25 s').not.toBeNull();
    const after = (stoppedAt! - idleReady) / 1000;
    expect(after).toBeGreaterThanOrEqual(IDLE_TIMEOUT - 2);
    expect(after).toBeLessThanOrEqual(20);
    expect(record(idle.name).stopReason).toContain(REASON);
    expect(record(idle.name).stopReason).toContain('Your files are safe');

    // the next visit: the server URL leads to the 424 page that says why
    const page = await idleClient.raw(`/hub/user/${idle.name}/tree`);
    expect(page.status).toBe(424);
    expect(page.body).toContain(REASON);
    const visit = await idleClient.get(`/user/${idle.name}/tree`);
    expect(visit.status).toBe(424);
    expect(visit.body).toContain(REASON);
    expect(visit.body).toContain(`/hub/spawn/${idle.name}`);

    // the busy one: still running 20+ s into its cell, with activity taken from the proxy
    await sleep(Math.max(0, cellStarted + 22_000 - Date.now()));
    const busyRec = record(busy.name);
    expect(busyRec.status).toBe('running');
    expect(busyRec.stopReason).toBeNull();
    expect(Date.now() - Date.parse(busyRec.lastActivity)).toBeLessThan(4_000);
    expect(streamFrames).toBeGreaterThanOrEqual(18);
    expect(channel.open).toBe(true);

    // each cull is logged at info with the user and how long the server was idle
    const culls = readFileSync(join(lab.dataDir, 'data', 'logs', 'hub.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"culling server"'))
      .map((l) => JSON.parse(l));
    expect(culls).toHaveLength(1);
    expect(culls[0]).toMatchObject({ level: 30, user: idle.name, why: 'idle' });
    expect(culls[0].idleSeconds).toBeGreaterThanOrEqual(IDLE_TIMEOUT);
  }, 150_000);

  it('once the cell has finished and the websocket is quiet, the busy server is culled too', async () => {
    const out = await cell!;
    expect(out.trim().split('\n')).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
    const done = Date.now();
    // an open kernel websocket still carries the server's pings (every 30 s), so allow for one
    const stoppedAt = await waitStopped(busy.name, done + 45_000);
    expect(stoppedAt, 'the busy server was not stopped after its cell finished').not.toBeNull();
    expect(record(busy.name).stopReason).toContain(REASON);
  }, 90_000);
});
