/**
 * Acceptance 2 and 3 of the spine issue, against real PAM and real Linux users, through the real
 * proxy and hub processes (`labhub serve`).
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../helpers/browserless-client.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';

let lab: LabhubProcess;
let good: TestUser;
let victim: TestUser;
let system: TestUser;
let locked: TestUser;
let expired: TestUser;

beforeAll(async () => {
  good = createTestUser('login1');
  victim = createTestUser('login2');
  system = createTestUser('sys1', { system: true });
  locked = createTestUser('locked1');
  execFileSync('usermod', ['-L', locked.name]);
  expired = createTestUser('expired1');
  execFileSync('chage', ['-E', '0', expired.name]);
  lab = await new LabhubProcess({
    config: { auth: { maxFailuresPerUser: 3, maxFailuresPerAddress: 50, lockoutSeconds: 600 } },
  }).init();
  await lab.startServe();
});

afterAll(async () => {
  await lab?.stop();
  removeAllTestUsers();
});

const loggedIn = (c: CookieClient) => !!c.cookie('jupyterhub-hub-login');

describe('login with PAM', () => {
  it('logs a student in with the right password and sets a HttpOnly, SameSite session cookie', async () => {
    const c = new CookieClient(lab.publicUrl);
    const res = await c.login(good.name, good.password, '/hub/home');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/hub/home');
    const setCookie = res.headers.getSetCookie().find((s) => s.startsWith('jupyterhub-hub-login='))!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).toMatch(/Path=\/hub\//);
    expect(setCookie).not.toMatch(/Secure/);
    const home = await c.get('/hub/home');
    expect(home.status).toBe(200);
    expect(home.body).toContain(`Hello, ${good.name}`);
    // logout ends the session
    const out = await c.get('/hub/logout');
    expect(out.hops[0]?.location).toBe('/hub/login');
    expect(loggedIn(c)).toBe(false);
    const after = await c.raw('/hub/home');
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toMatch(/^\/hub\/login/);
  });

  it('rejects a login form without its CSRF token', async () => {
    const c = new CookieClient(lab.publicUrl);
    const res = await c.raw('/hub/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: lab.publicUrl },
      body: new URLSearchParams({ username: good.name, password: good.password }).toString(),
    });
    expect(res.status).toBe(403);
    expect(loggedIn(c)).toBe(false);
  });

  it('a wrong password shows the login page with an error and creates no session', async () => {
    const c = new CookieClient(lab.publicUrl);
    const res = await c.login(good.name, 'definitely-wrong');
    expect(res.status).toBe(403);
    expect(res.body).toContain('Invalid user name or password');
    expect(res.body).toContain('name="password"');
    expect(loggedIn(c)).toBe(false);
  });

  it('locks an account out after the configured failures, even for the right password, and across a hub restart', async () => {
    const c = new CookieClient(lab.publicUrl);
    for (let i = 0; i < 2; i++) expect((await c.login(victim.name, `wrong-${i}`)).body).toContain('Invalid user name or password');
    const third = await c.login(victim.name, 'wrong-3');
    expect(third.status).toBe(429);
    expect(third.body).toContain('Too many failed logins');
    const right = await c.login(victim.name, victim.password);
    expect(right.status).toBe(429);
    expect(loggedIn(c)).toBe(false);
    // other students are not affected
    expect((await new CookieClient(lab.publicUrl).login(good.name, good.password)).status).toBe(302);

    await lab.killServe('SIGKILL');
    await lab.startServe();
    const afterRestart = await new CookieClient(lab.publicUrl).login(victim.name, victim.password);
    expect(afterRestart.status).toBe(429);
    expect(afterRestart.body).toMatch(/blocked for \d+ more minutes/);
    expect(lab.state().loginFailures.users[victim.name].lockedUntil).toBeTruthy();
  });

  it('refuses a system account (uid < 1000) with the right password', async () => {
    expect(system.uid).toBeLessThan(1000);
    const c = new CookieClient(lab.publicUrl);
    const res = await c.login(system.name, system.password);
    expect(res.status).toBe(403);
    expect(loggedIn(c)).toBe(false);
  });

  it('refuses a locked account with the right password', async () => {
    const c = new CookieClient(lab.publicUrl);
    const res = await c.login(locked.name, locked.password);
    expect(res.status).toBe(403);
    expect(loggedIn(c)).toBe(false);
  });

  it('refuses an expired account with the right password and says why', async () => {
    const c = new CookieClient(lab.publicUrl);
    const res = await c.login(expired.name, expired.password);
    expect(res.status).toBe(403);
    expect(res.body).toContain('expired');
    expect(loggedIn(c)).toBe(false);
  });

  it('refuses root', async () => {
    const c = new CookieClient(lab.publicUrl);
    const res = await c.login('root', 'anything');
    expect(res.status).toBe(403);
    expect(loggedIn(c)).toBe(false);
  });
});
