/**
 * Acceptance 5 of issue 8, in a real browser: Chromium trusting the lab's generated CA through
 * its NSS database (no --ignore-certificate-errors) starts at the plain-http address, is
 * redirected to https, logs in as a real Linux user with Secure cookies, and runs a notebook cell
 * over a wss:// kernel websocket. Twice: with LabHub's own proxy terminating TLS, and behind a
 * real Debian nginx terminating TLS in front of a plain-http `labhub serve`.
 */
import { rmSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';
import { homeTrustingCa, TlsLab } from '../helpers/tls-lab.js';
import { makeTlsDir, type TlsFixture } from '../helpers/tls-fixtures.js';

let tls: TlsFixture;
let home: string;
let browser: Browser;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  tls = await makeTlsDir();
  home = homeTrustingCa(tls.caCert);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-sync'],
    env: { ...process.env, HOME: home },
  });
});

afterAll(async () => {
  for (const f of cleanups.reverse()) await Promise.resolve(f()).catch(() => undefined);
  await browser?.close();
  removeAllTestUsers();
  if (home) rmSync(home, { recursive: true, force: true });
  tls?.remove();
});

/**
 * The student's journey from `startUrl` (plain http) to a cell run over wss://; `httpsOrigin` is
 * where the redirect must land.
 */
async function studentJourney(startUrl: string, httpsOrigin: string, student: TestUser): Promise<void> {
  const context: BrowserContext = await browser.newContext();
  cleanups.push(() => context.close());
  const page = await context.newPage();
  const failures: string[] = [];
  page.on('response', (r) => r.status() >= 400 && failures.push(`${r.status()} ${r.url()}`));

  const first = await page.goto(startUrl);
  await page.waitForURL(/\/hub\/login/);
  expect(page.url().startsWith(`${httpsOrigin}/hub/login`)).toBe(true);
  // the chain began at the plain-http address, which answered with a permanent redirect
  let origin = first!.request();
  while (origin.redirectedFrom()) origin = origin.redirectedFrom()!;
  expect(origin.url()).toBe(startUrl);
  expect([301, 308]).toContain((await origin.response())?.status());
  // the CA is offered on the login page, with its fingerprint
  await expect(page.locator('#ca-link').getAttribute('href')).resolves.toBe('/hub/ca.crt');
  expect(await page.locator('#ca-fingerprint').textContent()).toBe(tls.caFingerprint);
  // fetched by the browser itself (Playwright's own request client would not use the NSS trust)
  const ca = await page.evaluate(async () => {
    const r = await fetch('/hub/ca.crt');
    return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
  });
  expect(ca).toEqual({ status: 200, type: 'application/x-x509-ca-cert', text: tls.caPem.toString('utf8') });

  await page.fill('#username', student.name);
  await page.fill('#password', student.password);
  await Promise.all([page.waitForURL(/\/user\/[^/]+\/tree/, { timeout: 90_000 }), page.click('#login_submit')]);
  expect(page.url().startsWith(`${httpsOrigin}/user/${student.name}/tree`)).toBe(true);
  const cookies = await context.cookies();
  for (const name of ['jupyterhub-hub-login', 'jupyterhub-session-id', `jupyterhub-user-${student.name}`]) {
    expect(cookies.find((c) => c.name === name), name).toMatchObject({ secure: true });
  }
  await page.waitForSelector('#notebook_list', { timeout: 30_000 });

  const [nb] = await Promise.all([context.waitForEvent('page'), page.click('#new-dropdown-button').then(() => page.click('#kernel-python3 a'))]);
  const sockets: string[] = [];
  nb.on('websocket', (ws) => sockets.push(ws.url()));
  await nb.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.(), undefined, { timeout: 60_000 });
  await nb.click('.CodeMirror');
  await nb.keyboard.type('import os; print("RESULT", 6 * 7, os.getuid())');
  await nb.keyboard.press('Shift+Enter');
  const out = nb.locator('.output_area pre', { hasText: 'RESULT' });
  await out.waitFor({ timeout: 30_000 });
  expect(await out.innerText()).toContain(`RESULT 42 ${student.uid}`);
  const kernelSockets = sockets.filter((u) => u.includes('/api/kernels/'));
  // the notebook may have opened its socket before this listener; then it is the page's own URL scheme
  for (const u of kernelSockets) expect(u.startsWith(`wss://${new URL(httpsOrigin).host}/user/${student.name}/api/kernels/`)).toBe(true);
  expect(await nb.evaluate(() => (window as any).Jupyter.notebook.kernel.ws.url as string)).toMatch(new RegExp(`^wss://${new URL(httpsOrigin).host}/`));
  expect(failures).toEqual([]);
  await context.close();
}

describe('https with LabHub terminating TLS', () => {
  let lab: TlsLab;
  let redirectPort: number;
  let student: TestUser;

  beforeAll(async () => {
    student = createTestUser('tl1');
    redirectPort = await freePort();
    lab = await new TlsLab(tls.caPem, {
      config: { proxy: { tls: { cert: tls.serverCert, key: tls.serverKey, caCert: tls.caCert, httpRedirectPort: redirectPort } } },
    }).init();
    cleanups.push(async () => {
      await lab.stop();
      rmSync(lab.dataDir, { recursive: true, force: true });
    });
    await lab.startServe();
  });

  it('redirects http, logs in over https with Secure cookies, and runs a kernel over wss://', async () => {
    await studentJourney(`http://localhost:${redirectPort}/`, `https://localhost:${lab.publicPort}`, student);
    // plain http on the https port is not served in the clear
    const clear = await fetch(`http://127.0.0.1:${lab.publicPort}/hub/login`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(clear).not.toBe(200);
  });
});

describe('https behind nginx (Debian package) terminating TLS', () => {
  let lab: LabhubProcess;
  let nginx: Nginx;
  let httpsPort: number;
  let httpPort: number;
  let student: TestUser;

  beforeAll(async () => {
    student = createTestUser('tl2');
    lab = await new LabhubProcess({ config: { proxy: { trustedProxies: ['127.0.0.1'], tls: { caCert: tls.caCert } } } }).init();
    cleanups.push(async () => {
      await lab.stop();
      rmSync(lab.dataDir, { recursive: true, force: true });
    });
    await lab.startServe();
    [httpsPort, httpPort] = [await freePort(), await freePort()];
    nginx = await startNginx({ httpsPort, httpPort, cert: tls.serverCert, key: tls.serverKey, upstream: `127.0.0.1:${lab.publicPort}` });
    cleanups.push(() => nginx.close());
  });

  it('redirects http, logs in over https with Secure cookies, and runs a kernel over wss://', async () => {
    await studentJourney(`http://localhost:${httpPort}/`, `https://localhost:${httpsPort}`, student);
    expect(nginx.errors()).not.toMatch(/\[(error|crit|alert|emerg)\]/);
  });
});
