/**
 * The control app's "Install LabHub on this machine" (renderer/views/machine.ts) shows the
 * installer's progress: a bar and "Step i of N: …" from install.sh's `==> [i/N]` lines, then the
 * result. In Chromium against a real hub, with the Electron side stood in for by
 * test/helpers/admin-desktop.ts (real bridge, IPC handlers and installer runner in a pty) running a
 * script that prints install.sh's step lines (test/fixtures/installer-steps.sh); the real
 * install.sh through the same runner is in installer-runner.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstallerRunner } from '../../main/installer-runner.js';
import { DesktopStandIn } from '../helpers/admin-desktop.js';
import { launchChromium, loginAndOpen, VIEWPORT, watchErrors } from '../helpers/admin-browser.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';

const STEPS = fileURLToPath(new URL('../fixtures/installer-steps.sh', import.meta.url));
const gates = mkdtempSync(join(tmpdir(), 'labhub-installer-view-'));

class StepsStandIn extends DesktopStandIn {
  override readonly installer = new InstallerRunner({ script: STEPS, args: [gates], root: true, cancelGraceMs: 1000 });
}

let lab: LabhubProcess;
let admin: TestUser;
let browser: Browser;
let desktop: StepsStandIn;

beforeAll(async () => {
  admin = createTestUser('guiinstadm');
  lab = await new LabhubProcess({ config: { auth: { adminUsers: [admin.name] } } }).init();
  await lab.startServe();
  browser = await launchChromium();
});

afterAll(async () => {
  await desktop?.close();
  await browser?.close();
  await lab?.stop();
  removeAllTestUsers();
  rmSync(gates, { recursive: true, force: true });
});

const bar = (page: Page) =>
  page.evaluate(() => {
    const p = document.getElementById('installer-progress') as HTMLProgressElement;
    return { hidden: p.hidden, value: p.value, max: p.max, status: document.getElementById('installer-status')?.textContent };
  });

describe('This machine: installer progress', () => {
  it('shows each step of the installer as it comes, then the result', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    const errors = watchErrors(page);
    desktop = new StepsStandIn({
      origin: lab.publicUrl,
      status: { state: 'running', mode: 'child', hubUrl: lab.publicUrl, healthy: true, pid: null, restarts: 0, exits: [], message: null, since: new Date().toISOString() },
      logLines: [],
    });
    await desktop.attach(context, page);
    await loginAndOpen(page, lab.publicUrl, admin.name, admin.password, '/hub/admin');
    await page.click('.side-nav a[data-view="machine"]');
    await page.waitForSelector('main[data-view="machine"]');
    expect((await bar(page)).hidden).toBe(true);

    await page.click('#install-run');
    await page.locator('dialog').getByRole('button', { name: 'Install' }).click();
    await page.waitForFunction(() => document.getElementById('installer-status')?.textContent?.startsWith('Step 1'), undefined, { timeout: 20_000 });
    expect(await bar(page)).toEqual({ hidden: false, value: 0, max: 3, status: 'Step 1 of 3: install jupyterhub restic' });

    writeFileSync(join(gates, 'go-2'), '');
    await page.waitForFunction(() => document.getElementById('installer-status')?.textContent?.startsWith('Step 2'), undefined, { timeout: 20_000 });
    expect(await bar(page)).toEqual({ hidden: false, value: 1, max: 3, status: 'Step 2 of 3: put LabHub 0.1.0 in /opt/labhub' });
    expect(await page.isVisible('#install-cancel')).toBe(true);

    writeFileSync(join(gates, 'go-3'), '');
    await page.waitForFunction(() => document.getElementById('installer-status')?.textContent?.startsWith('Installed'), undefined, { timeout: 20_000 });
    expect(await bar(page)).toEqual({ hidden: false, value: 3, max: 3, status: 'Installed. The hub starts in a moment.' });
    await page.waitForFunction(() => (document.querySelector('#installer-terminal .xterm-rows')?.textContent ?? '').includes('LabHub 0.1.0 is running'), undefined, { timeout: 5000 });
    expect(await page.isDisabled('#install-run')).toBe(false);
    expect(errors).toEqual([]);
    await context.close();
  });
});
