/**
 * Acceptance 5, 6 and 7 of the spine issue with the real processes: the hub killed and restarted,
 * the proxy killed and restarted, and a student's server killed behind the hub's back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../helpers/browserless-client.js';
import { KernelChannel, openServer, startKernel, startServer } from '../helpers/jupyter.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';

let lab: LabhubProcess;
let alice: TestUser;
let client: CookieClient;

beforeAll(async () => {
  alice = createTestUser('rst1');
  lab = await new LabhubProcess().init();
  await lab.startServe();
  client = new CookieClient(lab.publicUrl);
  expect((await client.login(alice.name, alice.password)).status).toBe(302);
  await startServer(client, alice.name);
  await openServer(client, alice.name);
});

afterAll(async () => {
  await lab?.stop();
  removeAllTestUsers();
});

function serverPid(): number {
  return lab.state().servers[alice.name].state.pid as number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('restarts', () => {
  it('hub killed with SIGKILL: server keeps running, the open kernel websocket keeps working, no new login, hub knows the server', async () => {
    const kernel = await startKernel(client, alice.name);
    const channel = await KernelChannel.open(client, alice.name, kernel);
    expect(await channel.execute('print(6*7)')).toBe('42\n');
    const pid = serverPid();
    const proxyPid = lab.proxyPid();

    await lab.killServe('SIGKILL');
    // during the outage: the proxy still carries the websocket to the server
    expect(await channel.execute('print("during")')).toBe('during\n');
    expect(alive(pid)).toBe(true);

    await lab.startServe();
    expect(lab.proxyPid()).toBe(proxyPid);
    expect(await channel.execute('print("after")')).toBe('after\n');
    expect(channel.open).toBe(true);

    const home = await client.raw('/hub/home');
    expect(home.status).toBe(200);
    expect(home.body).toContain('Your server is running');
    const model = JSON.parse((await client.raw(`/hub/api/users/${alice.name}`, { headers: { referer: `${lab.publicUrl}/hub/home` } })).body);
    expect(model.server).toBe(`/user/${alice.name}/`);
    expect(model.servers[''].ready).toBe(true);
    expect(serverPid()).toBe(pid);
    // "coming back the next day": the site root takes her straight into her running notebook
    const back = await client.get('/');
    expect(back.status).toBe(200);
    expect(new URL(back.url).pathname).toMatch(new RegExp(`^/user/${alice.name}/tree/?$`));
    expect(back.hops.some((h) => h.location?.startsWith('/hub/login'))).toBe(false);
    channel.close();
  });

  it('proxy restarted: routes come back from disk and the server is reachable without a re-spawn', async () => {
    const pid = serverPid();
    await lab.killProxy('SIGKILL');
    const down = await fetch(`${lab.publicUrl}/user/${alice.name}/api/status`).catch((e) => e);
    expect(down).toBeInstanceOf(Error);
    lab.startProxy();
    // the proxy, not the hub, restores the route: the hub is not asked to re-add it
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await client.raw(`/user/${alice.name}/api/status`).catch(() => ({ status: 0 }))).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    expect(serverPid()).toBe(pid);
    expect(alive(pid)).toBe(true);
  });

  it('server killed behind the hub: the next visit says "not running" with a start button, no hang or 502 loop', async () => {
    const pid = serverPid();
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    const visit = await client.get(`/user/${alice.name}/tree`);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect([424, 503]).toContain(visit.status);
    expect(visit.body).toMatch(/not running/);
    expect(visit.body).toContain(`href="/hub/spawn/${alice.name}`);
    expect(visit.body).toMatch(/stopped unexpectedly/);
    // and again: now without a route, through the hub's 424 page
    const again = await client.get(`/user/${alice.name}/tree`);
    expect(again.status).toBe(424);
    expect(again.body).toContain('Start my server');
    expect(lab.state().servers[alice.name].status).toBe('stopped');
    // the start button works
    await startServer(client, alice.name);
    expect(alive(serverPid())).toBe(true);
  });
});
