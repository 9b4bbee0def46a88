/**
 * The admin GUI end to end in a real browser against a real `labhub serve`: an admin (a real Linux
 * user listed in auth.adminUsers) imports a class roster, the Linux accounts appear, a new student
 * logs in with the printed password and reaches a running notebook; then the admin stops that
 * server from the Users table (the row updates without a reload), resets a password and removes a
 * student with an archived home. Screenshots of every view go to docs/screenshots/ (committed).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, loginAndOpen, VIEWPORT, watchErrors } from '../helpers/admin-browser.js';
import { CookieClient } from '../helpers/browserless-client.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, removeGroup, removeTestUser, type TestUser } from '../helpers/linux-users.js';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const GROUP = 'lhtestguiclass';
const VALID = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov', 'Donald Knuth', 'Frances Allen', 'John Backus'].map(
  (fullName, i) => ({ name: `lhtestgui${String(i + 1).padStart(2, '0')}`, fullName }),
);
const GIVEN_PASSWORD = 'given-pass-2345';
const SHORT_PASSWORD_USER = 'lhtestgui09';
const FORM_USER = 'lhtestgui10';
const EXTRA_GROUP = 'lhtestguiextra';
const ROSTER = [
  'name,full name,group,password',
  ...VALID.map((u, i) => `${u.name},${u.fullName},${GROUP},${i === 1 ? GIVEN_PASSWORD : ''}`),
  `Bad Name,Not A Linux Name,${GROUP},`,
  `${SHORT_PASSWORD_USER},"Short, Password",${GROUP},short`,
].join('\n');

let lab: LabhubProcess;
let admin: TestUser;
let browser: Browser;
let adminContext: BrowserContext;
let page: Page;
let pageErrors: string[];
const passwords = new Map<string, string>();

const known = (name: string) => spawnSync('getent', ['passwd', name]).status === 0;

async function shot(name: string): Promise<void> {
  // transient toasts would make the pictures differ from run to run
  await page.evaluate(() => document.querySelector('.notices')?.replaceChildren());
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

async function openView(id: string): Promise<void> {
  await page.click(`.side-nav a[data-view="${id}"]`);
  await page.waitForSelector(`main[data-view="${id}"]`);
}

function cleanup(): void {
  for (const u of [...VALID.map((v) => v.name), SHORT_PASSWORD_USER, FORM_USER]) removeTestUser(u);
  removeAllTestUsers();
  removeGroup(GROUP);
}

beforeAll(async () => {
  cleanup();
  mkdirSync(SHOTS, { recursive: true });
  admin = createTestUser('guiadmin');
  lab = await new LabhubProcess({ config: { auth: { adminUsers: [admin.name] } } }).init();
  await lab.startServe();
  browser = await launchChromium();
  adminContext = await browser.newContext({ viewport: VIEWPORT });
  page = await adminContext.newPage();
  pageErrors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await lab?.stop();
  cleanup();
});

describe('admin GUI', () => {
  it('imports a roster: invalid rows flagged, Linux accounts made, slips printed, a student logs in with one', async () => {
    await loginAndOpen(page, lab.publicUrl, admin.name, admin.password, '/hub/admin');
    expect(await page.locator('#admin-name').innerText()).toBe(admin.name);
    await page.waitForSelector('main[data-view="dashboard"] .card');

    await openView('import');
    await page.fill('#roster-csv', ROSTER);
    await page.click('#preview-roster');
    await page.waitForSelector('#preview-table');
    expect(await page.locator('#preview-table tbody tr[data-action="create"]').count()).toBe(8);
    const invalid = page.locator('#preview-table tbody tr[data-action="invalid"]');
    expect(await invalid.count()).toBe(2);
    expect(await invalid.evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.line))).toEqual(['10', '11']);
    expect(await invalid.nth(1).innerText()).toMatch(/8 characters/);
    expect(await page.locator('#create-roster').innerText()).toBe('Create 8 accounts');
    await shot('import-preview');

    await page.click('#create-roster');
    await page.waitForSelector('#credential-sheet', { timeout: 60_000 });
    expect(await page.locator('#create-table tbody tr[data-status="created"]').count()).toBe(8);
    const slips = page.locator('#credential-sheet .slip');
    expect(await slips.count()).toBe(8);
    for (const s of await slips.all()) {
      passwords.set((await s.getAttribute('data-user'))!, await s.locator('.slip-password').innerText());
    }
    expect([...passwords.keys()].sort()).toEqual(VALID.map((u) => u.name));
    expect(passwords.get(VALID[1]!.name)).toBe(GIVEN_PASSWORD);
    expect(await page.locator('#credential-sheet').innerText()).toContain(lab.publicUrl);
    await page.locator('#credential-sheet').scrollIntoViewIfNeeded();
    await shot('credential-sheet');
    // printed, only the slips remain
    await page.emulateMedia({ media: 'print' });
    for (const hidden of ['.side-nav', '.app-header', '#roster', '#create-table', '#print-sheet']) expect(await page.locator(hidden).isVisible()).toBe(false);
    expect(await slips.nth(7).isVisible()).toBe(true);
    await page.emulateMedia({ media: 'screen' });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-credentials')]);
    expect(download.suggestedFilename()).toMatch(/^labhub-credentials-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('name,full name,group,url,password');
    expect(csv).toContain(`${VALID[1]!.name},${VALID[1]!.fullName},${GROUP},${lab.publicUrl},${GIVEN_PASSWORD}\r\n`);

    // the Linux side: 8 accounts with homes and the group, nothing for the 2 invalid rows
    for (const u of VALID) {
      expect(execFileSync('getent', ['passwd', u.name], { encoding: 'utf8' })).toContain(u.fullName);
      expect(statSync(`/home/${u.name}`).isDirectory()).toBe(true);
      expect(execFileSync('id', ['-nG', u.name], { encoding: 'utf8' }).trim().split(/\s+/)).toContain(GROUP);
    }
    expect(known(SHORT_PASSWORD_USER)).toBe(false);
    expect(existsSync(`/home/${SHORT_PASSWORD_USER}`)).toBe(false);

    // a student logs in with the printed password in another browser and reaches the notebook
    const student = VALID[0]!.name;
    const studentContext = await browser.newContext();
    const sp = await studentContext.newPage();
    await sp.goto(`${lab.publicUrl}/`);
    await sp.waitForURL(/\/hub\/login/);
    await sp.fill('#username', student);
    await sp.fill('#password', passwords.get(student)!);
    await Promise.all([sp.waitForURL(new RegExp(`/user/${student}/tree`), { timeout: 90_000 }), sp.click('#login_submit')]);
    await sp.waitForSelector('#notebook_list', { timeout: 30_000 });
    await studentContext.close();
    expect(pageErrors).toEqual([]);
  });

  it('stops a server from the Users table (no reload), resets a password, removes a user with an archived home', async () => {
    const student = VALID[0]!.name;
    await openView('users');
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    const rowSelector = `#users-table tr[data-user="${student}"]`;
    const row = page.locator(rowSelector);
    await page.waitForSelector(`${rowSelector}[data-state="running"]`, { timeout: 10_000 });
    // "Open" takes the admin into the student's running server in a new tab
    const [tab] = await Promise.all([adminContext.waitForEvent('page'), row.getByRole('link', { name: `Open ${student}'s server in a new tab` }).click()]);
    await tab.waitForSelector('#notebook_list', { timeout: 30_000 });
    expect(new URL(tab.url()).pathname).toMatch(new RegExp(`^/user/${student}/`));
    await tab.close();
    await row.locator('button[data-action="stop"]').click();
    await page.waitForSelector(`${rowSelector}[data-state="stopped"]`, { timeout: 30_000 });
    expect(await row.locator('.pill').innerText()).toBe('stopped');
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);

    // reset the password: the new one is shown once, the old one stops working
    const old = passwords.get(student)!;
    await row.locator('button[data-action="more"]').click();
    await page.getByRole('menuitem', { name: 'Reset password…' }).click();
    await page.locator('dialog').getByRole('button', { name: 'Reset password' }).click();
    const fresh = (await page.locator('#new-password').innerText()).trim();
    expect(fresh).not.toBe(old);
    expect(fresh.length).toBeGreaterThanOrEqual(8);
    await page.locator('dialog').getByRole('button', { name: 'Done' }).click();
    expect((await new CookieClient(lab.publicUrl).login(student, old)).status).toBe(403);
    expect((await new CookieClient(lab.publicUrl).login(student, fresh)).status).toBe(302);

    // remove another student, archiving the home
    const gone = VALID[2]!.name;
    await page.fill('#user-search', gone);
    await page.waitForFunction(() => /^Showing 1 of/.test(document.getElementById('user-count')?.textContent ?? ''));
    const goneRow = page.locator(`#users-table tr[data-user="${gone}"]`);
    await goneRow.locator('button[data-action="more"]').click();
    await page.getByRole('menuitem', { name: 'Remove user…' }).click();
    await page.check('#home-archive');
    const remove = page.locator('dialog').getByRole('button', { name: 'Remove' });
    expect(await remove.isDisabled()).toBe(true);
    await page.fill('#remove-confirm', gone);
    await remove.click();
    await goneRow.waitFor({ state: 'detached', timeout: 30_000 });
    const archiveDir = join(lab.dataDir, 'data', 'archive');
    const archives = readdirSync(archiveDir).filter((f) => f.startsWith(`${gone}-`) && f.endsWith('.tar.gz'));
    expect(archives).toHaveLength(1);
    expect(statSync(join(archiveDir, archives[0]!)).size).toBeGreaterThan(0);
    expect(known(gone)).toBe(false);
    expect(existsSync(`/home/${gone}`)).toBe(false);
    await page.fill('#user-search', '');

    // make an admin from the row's menu; the row says so after the refresh
    const other = VALID[3]!.name;
    await page.locator(`#users-table tr[data-user="${other}"] button[data-action="more"]`).click();
    await page.getByRole('menuitem', { name: 'Make admin' }).click();
    await page.waitForFunction((n) => document.querySelector(`#users-table tr[data-user="${n}"] td:nth-child(5)`)?.textContent === 'yes', other);

    // one user through the form: a Linux account and one slip
    await openView('import');
    await page.fill('#one-name', FORM_USER);
    await page.fill('#one-fullname', 'Form Student');
    await page.fill('#one-group', GROUP);
    await page.click('#one-user button[type="submit"]');
    await page.waitForSelector(`#credential-sheet .slip[data-user="${FORM_USER}"]`);
    expect(execFileSync('id', ['-nG', FORM_USER], { encoding: 'utf8' }).trim().split(/\s+/)).toContain(GROUP);
    expect(pageErrors).toEqual([]);
  });

  it('saves settings with client- and server-side checks, and screenshots every view', async () => {
    await openView('dashboard');
    await page.waitForSelector('main[data-view="dashboard"] .usage');
    await shot('dashboard');

    await openView('users');
    await page.waitForSelector('#users-table[data-ready="true"]');
    await shot('users');

    await openView('groups');
    await page.click(`.group-item[data-group="${GROUP}"]`);
    await page.waitForSelector('#group-detail .members');
    expect(await page.locator('#group-detail .members li').count()).toBe(8);
    await page.getByRole('button', { name: 'Stop all servers' }).click();
    await page.waitForFunction(() => /Asked 8 of 8 servers to stop\./.test(document.querySelector('.bulk-progress')?.textContent ?? ''));
    await shot('groups');
    // a new class: create, add a member, remove them, delete it
    await page.fill('#new-group', EXTRA_GROUP);
    await page.click('#new-group-form button[type="submit"]');
    await page.waitForSelector(`#group-detail h2:text-is("${EXTRA_GROUP}")`);
    await page.fill('#add-member', VALID[4]!.name);
    await page.click('#group-detail .inline-form button[type="submit"]');
    await page.waitForSelector(`#group-detail .members li[data-user="${VALID[4]!.name}"]`);
    await page.getByRole('button', { name: `Remove ${VALID[4]!.name} from ${EXTRA_GROUP}` }).click();
    await page.waitForSelector('#group-detail .members', { state: 'detached' });
    await page.getByRole('button', { name: 'Delete class' }).click();
    await page.locator('dialog').getByRole('button', { name: 'Delete class' }).click();
    await page.waitForSelector(`.group-item[data-group="${EXTRA_GROUP}"]`, { state: 'detached' });

    await openView('logs');
    await page.waitForFunction(() => (document.getElementById('log-output')?.textContent ?? '').length > 0);
    await shot('logs');
    // a student's server log, searched
    await page.selectOption('#log-id', `users/${VALID[0]!.name}`);
    await page.fill('#log-q', 'Jupyter');
    // the search runs on the hub (250 ms after typing): wait for an answer where every line matches
    await page.waitForFunction(() => {
      const lines = (document.getElementById('log-output')?.textContent ?? '').split('\n').filter(Boolean);
      return lines.length > 0 && lines.every((l) => /jupyter/i.test(l));
    });

    await openView('settings');
    await page.waitForSelector('#settings-form');
    await page.fill('#set-spawnConcurrency', '0');
    await page.click('#settings-form button[type="submit"]');
    expect(await page.locator('#set-spawnConcurrency-error').innerText()).toMatch(/1 to 64/);
    await page.fill('#set-spawnConcurrency', '3');
    await page.fill('#set-idleTimeoutSeconds', '30');
    await page.fill('#set-allowedGroups', 'lhtestnosuchgroup');
    await page.click('#settings-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('set-allowedGroups-error')?.textContent ?? '') !== '');
    // the hub's 400 is expected here; Chromium logs every failed request as a console error
    expect(pageErrors.splice(0)).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    await page.fill('#set-allowedGroups', '');
    await page.click('#settings-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('settings-message')?.textContent === 'Saved — applied now.');
    const { token } = JSON.parse(readFileSync(join(lab.dataDir, 'data', 'cli-token'), 'utf8')) as { token: string };
    const saved = await new CookieClient(lab.publicUrl).raw('/hub/api/labhub/settings', { headers: { authorization: `token ${token}` } });
    expect(JSON.parse(saved.body).settings).toMatchObject({ idleTimeoutSeconds: 1800, spawnConcurrency: 3, allowedGroups: [] });
    await shot('settings');
    expect(pageErrors).toEqual([]);
  });
});
