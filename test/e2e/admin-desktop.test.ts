/**
 * The desktop-only "This machine" view of the admin GUI, in Chromium against a real hub, with the
 * Electron side stood in for by test/helpers/admin-desktop.ts (fake transport only: the real
 * preload bridge, IPC handlers, installer runner in a pty and student terminal via runuser).
 * The Electron binary itself cannot be downloaded here.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS as CONTRACT_EVENTS, INVOKE } from '../../main/ipc/contract.js';
import { CHANNELS, EVENTS } from '../../renderer/desktop.js';
import { DesktopStandIn } from '../helpers/admin-desktop.js';
import { launchChromium, loginAndOpen, VIEWPORT, watchErrors } from '../helpers/admin-browser.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
let lab: LabhubProcess;
let admin: TestUser;
let student: TestUser;
let browser: Browser;
let desktop: DesktopStandIn;

const xtermText = (page: Page, selector: string) => page.evaluate((s) => document.querySelector(`${s} .xterm-rows`)?.textContent ?? '', selector);

beforeAll(async () => {
  admin = createTestUser('guideskadm');
  student = createTestUser('guidesk1');
  lab = await new LabhubProcess({ config: { auth: { adminUsers: [admin.name] } } }).init();
  await lab.startServe();
  browser = await launchChromium();
});

afterAll(async () => {
  await desktop?.close();
  await browser?.close();
  await lab?.stop();
  removeAllTestUsers();
});

describe('admin GUI, desktop app view', () => {
  it('uses exactly the channel names of main/ipc/contract.ts', () => {
    for (const c of Object.values(CHANNELS)) expect(Object.values(INVOKE)).toContain(c);
    expect(Object.values(EVENTS).sort()).toEqual(Object.values(CONTRACT_EVENTS).sort());
  });

  it('is not offered in a browser (no window.labhub)', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    await loginAndOpen(page, lab.publicUrl, admin.name, admin.password, '/hub/admin');
    await page.waitForSelector('.side-nav a[data-view="users"]');
    expect(await page.locator('.side-nav a[data-view="machine"]').count()).toBe(0);
    await context.close();
  });

  it('shows the supervisor, streams the installer into a terminal, opens a terminal as a student', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    const errors = watchErrors(page);
    desktop = new DesktopStandIn({
      origin: lab.publicUrl,
      status: {
        state: 'running', mode: 'child', hubUrl: lab.publicUrl, healthy: true, pid: lab.serve?.pid ?? null,
        restarts: 0, exits: [], message: null, since: new Date(Date.now() - 3_600_000).toISOString(),
      },
      logLines: ['{"level":30,"time":1795300000000,"msg":"hub started","name":"hub"}', '{"level":40,"time":1795300001000,"msg":"slow spawn","user":"s01"}'],
    });
    await desktop.attach(context, page);
    await loginAndOpen(page, lab.publicUrl, admin.name, admin.password, '/hub/admin');
    await page.click('.side-nav a[data-view="machine"]');
    await page.waitForSelector('main[data-view="machine"]');
    await page.waitForFunction(() => document.getElementById('supervisor-state')?.textContent === 'running');
    await page.waitForFunction(() => (document.getElementById('supervisor-log')?.textContent ?? '').includes('slow spawn'));

    // restart asks first, then calls main
    await page.click('#hub-restart');
    await page.locator('dialog').getByRole('button', { name: 'Restart' }).click();
    await page.waitForFunction(() => !document.querySelector('dialog'));
    expect(desktop.restarts).toBe(1);

    // the installer's pty output (colours and all) lands in xterm.js; its exit code is reported
    await page.click('#install-run');
    await page.locator('dialog').getByRole('button', { name: 'Install' }).click();
    await page.waitForFunction(() => /exit 3/.test(document.getElementById('installer-status')?.textContent ?? ''), undefined, { timeout: 20_000 });
    // xterm.js renders written data on the next animation frame
    await page.waitForFunction(() => (document.querySelector('#installer-terminal .xterm-rows')?.textContent ?? '').includes('failed on purpose'), undefined, { timeout: 5000 });
    const installed = await xtermText(page, '#installer-terminal');
    expect(installed).toContain('==> step one');
    expect(installed).toContain('running as uid 0 on a tty: yes');
    expect(installed).toContain('failed on purpose');
    expect(await page.locator('#installer-terminal .xterm-fg-3').count()).toBeGreaterThan(0); // yellow "warning:"

    // a login shell as the student: typed keys go to the pty, output comes back
    await page.fill('#terminal-user', student.name);
    await page.click('main[data-view="machine"] form button[type="submit"]');
    await page.waitForSelector('#student-terminal .xterm-rows');
    await page.waitForFunction((n) => (document.querySelector('#student-terminal .xterm-rows')?.textContent ?? '').includes(n), student.name, { timeout: 15_000 });
    await page.locator('#student-terminal .xterm-helper-textarea').focus();
    await page.keyboard.type('echo "who=$(id -un) uid=$(id -u) pwd=$PWD"');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      (s) => (document.querySelector('#student-terminal .xterm-rows')?.textContent ?? '').includes(s),
      `who=${student.name} uid=${student.uid} pwd=${student.home}`,
      { timeout: 15_000 },
    );
    const opened = desktop.calls.find((c) => c.channel === 'terminal:open');
    expect(opened?.args[0]).toBe(student.name);
    await page.screenshot({ path: join(SHOTS, 'machine.png') });

    // leaving the view closes the student's shell
    await page.click('.side-nav a[data-view="dashboard"]');
    await page.waitForSelector('main[data-view="dashboard"]');
    await expect.poll(() => desktop.calls.some((c) => c.channel === 'terminal:close'), { timeout: 5000 }).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });
});
