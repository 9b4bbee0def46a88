/**
 * The Quotas view end to end in a real browser against a real `labhub serve` (monitored disk mode:
 * this kernel has no disk quotas): the mode cards say what is in force and why, the admin sets the
 * defaults, adds a group override and a user override through the forms (seen in the tables and
 * through the API), a size the form rejects and a name the hub rejects are shown under their field,
 * the usage table lists every user fullest first with over-soft/over-hard marked after a scan, an
 * override is removed, and the Users view shows the quota state in the Home column. Screenshot to
 * docs/screenshots/quotas.png.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, loginAndOpen, VIEWPORT, watchErrors } from '../helpers/admin-browser.js';
import { CookieClient } from '../helpers/browserless-client.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, removeGroup, type TestUser } from '../helpers/linux-users.js';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const GROUP = 'lhtestqteach';
const G = 2 ** 30;
const M = 2 ** 20;

let lab: LabhubProcess;
let admin: TestUser;
let teacher: TestUser;
let soft: TestUser;
let hard: TestUser;
let browser: Browser;
let page: Page;
let pageErrors: string[];

async function api(path: string): Promise<any> {
  const { token } = JSON.parse(readFileSync(join(lab.dataDir, 'data', 'cli-token'), 'utf8')) as { token: string };
  const res = await new CookieClient(lab.publicUrl).raw(path, { headers: { authorization: `token ${token}` } });
  expect(res.status).toBe(200);
  return JSON.parse(res.body);
}

/** A file of `mb` megabytes in the user's home, owned by them. */
function fill(u: TestUser, mb: number): void {
  execFileSync('dd', ['if=/dev/zero', `of=${u.home}/data.bin`, 'bs=1M', `count=${mb}`], { stdio: 'ignore' });
  execFileSync('chown', [`${u.name}:`, `${u.home}/data.bin`]);
}

async function openView(id: string): Promise<void> {
  await page.click(`.side-nav a[data-view="${id}"]`);
  await page.waitForSelector(`main[data-view="${id}"]`);
}

/** Waits until the form's message says saved, or fails with what it says instead. */
async function saved(id: string): Promise<void> {
  await page.waitForFunction((i) => /Saved/.test(document.getElementById(i)?.textContent ?? '') || !!document.querySelector(`#${i} .error`), id);
  expect(await page.locator(`#${id}`).innerText()).toMatch(/Saved/);
}

function cleanup(): void {
  removeAllTestUsers();
  removeGroup(GROUP);
}

beforeAll(async () => {
  cleanup();
  mkdirSync(SHOTS, { recursive: true });
  admin = createTestUser('qadmin');
  teacher = createTestUser('qteacher', { groups: [GROUP] });
  soft = createTestUser('qsoft');
  hard = createTestUser('qhard');
  fill(soft, 3);
  fill(hard, 6);
  lab = await new LabhubProcess({ config: { auth: { adminUsers: [admin.name] }, quota: { diskMode: 'monitored' } } }).init();
  await lab.startServe();
  // the students become hub users by logging in once
  for (const u of [teacher, soft, hard]) expect((await new CookieClient(lab.publicUrl).login(u.name, u.password)).status).toBe(302);
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: VIEWPORT })).newPage();
  pageErrors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await lab?.stop();
  cleanup();
});

describe('quotas GUI', () => {
  it('shows the modes, saves defaults, group and user overrides, shows problems per field', async () => {
    await loginAndOpen(page, lab.publicUrl, admin.name, admin.password, '/hub/admin');
    await page.waitForSelector('main[data-view="dashboard"]');
    await openView('quotas');
    await page.waitForSelector('main[data-view="quotas"][data-ready="true"]');

    // what is in force and why
    const disk = page.locator('#quota-disk-mode');
    expect(await disk.getAttribute('data-mode')).toBe('monitored');
    expect(await disk.innerText()).toMatch(/Monitored/);
    expect(await disk.locator('.mode-reason').innerText()).toMatch(/^Why: \S/);
    expect(await page.locator('#quota-memory-mode .mode-text').innerText()).toMatch(/^(Enforced with|Not enforced)/);

    // defaults: a size the form rejects is shown under its field and nothing is sent
    await page.fill('#qd-diskSoft', '4G');
    await page.fill('#qd-diskHard', 'lots');
    await page.fill('#qd-memory', '2G');
    await page.fill('#qd-cpus', '1.5');
    await page.click('#quota-defaults button[type="submit"]');
    expect(await page.locator('#qd-diskHard-error').innerText()).toMatch(/size like 500M/);
    expect(await page.locator('#qd-diskHard').getAttribute('aria-invalid')).toBe('true');
    await page.fill('#qd-diskHard', '5G');
    await page.click('#quota-defaults button[type="submit"]');
    await saved('quota-defaults-message');
    expect(await page.locator('#qd-diskHard-error').innerText()).toBe('');
    const afterDefaults = await api('/hub/api/labhub/quota');
    expect(afterDefaults.defaults).toEqual({ diskSoft: 4 * G, diskHard: 5 * G, memory: 2 * G, cpus: 1.5 });
    expect(afterDefaults.defaultsSaved.sort()).toEqual(['cpus', 'diskHard', 'diskSoft', 'memory']);
    // only changed fields are sent: saving again changes nothing
    await page.click('#quota-defaults button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('quota-defaults-message')?.textContent === 'Nothing changed.');

    // a group override through the form
    await page.fill('#qg-name', GROUP);
    await page.fill('#qg-diskHard', '20G');
    await page.fill('#qg-memory', '8G');
    await page.click('#quota-groups-form button[type="submit"]');
    await saved('qg-message');
    const groupRow = page.locator(`#quota-groups-table tr[data-name="${GROUP}"]`);
    await groupRow.waitFor();
    expect(await groupRow.locator('td[data-key="diskHard"]').innerText()).toBe('20G');
    expect(await groupRow.locator('td[data-key="memory"]').innerText()).toBe('8G');
    expect(await groupRow.locator('td[data-key="diskSoft"]').innerText()).toBe('—');

    // user overrides: one over the soft limit, one over the hard limit
    for (const [u, s, h] of [[soft, '1M', '100M'], [hard, '1M', '4M']] as const) {
      await page.fill('#qu-name', u.name);
      await page.fill('#qu-diskSoft', s);
      await page.fill('#qu-diskHard', h);
      await page.click('#quota-users-form button[type="submit"]');
      await saved('qu-message');
      await page.locator(`#quota-users-table tr[data-name="${u.name}"]`).waitFor();
    }
    expect(await page.locator(`#quota-users-table tr[data-name="${hard.name}"] td[data-key="diskHard"]`).innerText()).toBe('4M');

    const q = await api('/hub/api/labhub/quota');
    expect(q.groups[GROUP]).toMatchObject({ diskHard: 20 * G, memory: 8 * G });
    expect(q.groups[GROUP].diskSoft).toBeUndefined();
    expect(q.users[soft.name]).toMatchObject({ diskSoft: 1 * M, diskHard: 100 * M });
    expect(q.users[hard.name]).toMatchObject({ diskSoft: 1 * M, diskHard: 4 * M });
    const teacherUsage = q.usage.find((u: any) => u.user === teacher.name);
    expect(teacherUsage.limits, JSON.stringify(teacherUsage)).toMatchObject({ diskSoft: 4 * G, diskHard: 20 * G, memory: 8 * G, cpus: 1.5 });
    expect(teacherUsage.sources).toMatchObject({ diskSoft: 'default', diskHard: `group:${GROUP}`, memory: `group:${GROUP}` });

    // a name the hub rejects: its problem is shown under the name field
    await page.fill('#qg-name', 'Not A Group!');
    await page.fill('#qg-diskHard', '1G');
    await page.fill('#qg-memory', '');
    await page.click('#quota-groups-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('qg-name-error')?.textContent ?? '') !== '');
    expect(await page.locator('#qg-message .error').count()).toBe(1);
    // Chromium logs the hub's expected 400 as a console error
    expect(pageErrors.splice(0)).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    expect(pageErrors).toEqual([]);
  });

  it('lists usage fullest first after a scan, marks over-soft and over-hard, removes an override, shows quota in Users', async () => {
    await page.click('#quota-scan');
    const usage = '#quota-usage-table tbody tr';
    await page.waitForSelector(`${usage}[data-user="${hard.name}"][data-state="over-hard"]`, { timeout: 60_000 });
    await page.waitForSelector(`${usage}[data-user="${soft.name}"][data-state="over-soft"]`, { timeout: 60_000 });
    const users = await page.locator(usage).evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.user));
    expect([...users].sort()).toEqual([admin.name, hard.name, soft.name, teacher.name].sort());
    // fullest first: over the hard limit, then over the soft one
    expect(users.slice(0, 2)).toEqual([hard.name, soft.name]);
    expect(await page.locator(`${usage}[data-user="${hard.name}"] .bar-fill`).getAttribute('class')).toContain('high');
    expect(await page.locator(`${usage}[data-user="${soft.name}"] .bar-fill`).getAttribute('class')).toContain('mid');
    expect(await page.locator(`${usage}[data-user="${hard.name}"]`).innerText()).toMatch(/measured/);
    expect(await page.locator('#quota-summary').innerText()).toMatch(new RegExp(`1 over the hard limit \\(${hard.name}\\); 1 over the soft limit \\(${soft.name}\\)`));
    await page.evaluate(() => document.querySelector('.notices')?.replaceChildren());
    await page.screenshot({ path: join(SHOTS, 'quotas.png') });

    // Users view: the Home column says how full each home is
    await openView('users');
    await page.waitForSelector(`#users-table tr[data-user="${hard.name}"][data-quota="over-hard"]`);
    expect(await page.locator(`#users-table tr[data-user="${hard.name}"] .home-quota`).innerText()).toMatch(/^\d+ %$/);
    await page.waitForSelector(`#users-table tr[data-user="${soft.name}"][data-quota="over-soft"]`);

    // Dashboard: who is over which limit, and the modes in force
    await openView('dashboard');
    await page.waitForSelector(`#quota-over-hard:has-text("${hard.name}")`);
    expect(await page.locator('#quota-over-hard').innerText()).toMatch(new RegExp(`^1 user\\s+${hard.name}$`));
    expect(await page.locator('#quota-over-soft').innerText()).toMatch(new RegExp(`^1 user\\s+${soft.name}$`));
    expect(await page.locator('#quota-card').innerText()).toMatch(/Disk\s+monitored/);

    // editing fills the form; removing an override puts the user back on the defaults
    await openView('quotas');
    await page.waitForSelector('main[data-view="quotas"][data-ready="true"]');
    await page.getByRole('button', { name: `Edit ${hard.name}'s limits` }).click();
    expect(await page.inputValue('#qu-name')).toBe(hard.name);
    expect(await page.inputValue('#qu-diskHard')).toBe('4M');
    await page.getByRole('button', { name: `Remove ${hard.name}'s override` }).click();
    await page.locator('dialog').getByRole('button', { name: 'Remove' }).click();
    await page.locator(`#quota-users-table tr[data-name="${hard.name}"]`).waitFor({ state: 'detached' });
    await page.waitForSelector(`${usage}[data-user="${hard.name}"][data-state="ok"]`);
    const q = await api('/hub/api/labhub/quota');
    expect(q.users[hard.name]).toBeUndefined();
    expect(q.usage.find((u: any) => u.user === hard.name).sources.diskHard).toBe('default');
    expect(pageErrors).toEqual([]);
  });
});
