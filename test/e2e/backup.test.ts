/**
 * Issue 5, acceptance 4, in a real browser against a real `labhub serve` with real restic: a
 * student's notebook is backed up, the student deletes it, then logs in with Chromium, goes from
 * the home page to "Restore files from a backup", picks the snapshot, restores the notebook (into
 * ~/restored-<time>/) and gets it back byte for byte, owned by them; they cannot list another
 * student's snapshots (the API answers 404); in place, the page lists what it overwrites first. The
 * admin browses and restores from the Backups view. Screenshots of the restore page and the admin's
 * Backups view go to docs/screenshots/.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, chownSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, loginAndOpen, VIEWPORT, watchErrors } from '../helpers/admin-browser.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';
import { hubApi } from '../helpers/hub-api.js';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const NOTEBOOK = `${JSON.stringify(
  { cells: [{ cell_type: 'markdown', metadata: {}, source: ['# Lab 3: résumé of the data'] }], metadata: {}, nbformat: 4, nbformat_minor: 5 },
  null,
  1,
)}\n`;

let lab: LabhubProcess;
let admin: TestUser;
let student: TestUser;
let other: TestUser;
let adminToken: string;
let studentToken: string;
let browser: Browser;
let backupDir: string;

const { api, tokenFor } = hubApi(() => lab.publicUrl);

/** Every file below `dir` whose name is `name`. */
function findFiles(dir: string, name: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(p, name));
    else if (e.name === name) out.push(p);
  }
  return out;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => document.querySelector('.notices')?.replaceChildren());
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  admin = createTestUser('bkguiadm');
  student = createTestUser('bkguistu');
  other = createTestUser('bkguioth');
  for (const [u, rel, content] of [
    [student, 'lab3/analysis.ipynb', NOTEBOOK],
    [student, 'lab3/data.csv', 'x,y\n1,2\n'],
    [other, 'private.txt', 'not for others\n'],
  ] as const) {
    mkdirSync(join(u.home, rel, '..'), { recursive: true });
    writeFileSync(join(u.home, rel), content);
    chownSync(join(u.home, rel, '..'), u.uid, u.gid);
    chownSync(join(u.home, rel), u.uid, u.gid);
  }
  backupDir = mkdtempSync(join(tmpdir(), 'labhub-backup-e2e-'));
  lab = await new LabhubProcess({
    config: { auth: { adminUsers: [admin.name] }, culler: { enabled: false }, backup: { repository: join(backupDir, 'repo'), schedule: '0 3 1 1 *' } },
  }).init();
  await lab.startServe();
  adminToken = await tokenFor(admin);
  studentToken = await tokenFor(student);
  expect((await api('/users', { method: 'POST', token: adminToken, body: { usernames: [other.name] } })).status).toBe(201);
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await lab?.stop();
  removeAllTestUsers();
  if (backupDir) rmSync(backupDir, { recursive: true, force: true });
});

describe('a student restores a deleted notebook in the browser', () => {
  it('backs up, deletes, restores from /hub/restore, and the notebook is back, theirs, byte for byte', async () => {
    const started = await (await api('/labhub/backup/run', { method: 'POST', token: adminToken, body: {} })).json();
    let run = started;
    while (!run.ended) {
      await new Promise((r) => setTimeout(r, 250));
      run = await (await api(`/labhub/backup/runs/${started.id}`, { token: adminToken })).json();
    }
    expect(run.status, JSON.stringify(run)).toBe('ok');
    const original = join(student.home, 'lab3/analysis.ipynb');
    unlinkSync(original);
    expect(existsSync(original)).toBe(false);

    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await loginAndOpen(page, lab.publicUrl, student.name, student.password, '/hub/home');
    await Promise.all([page.waitForURL((u) => u.pathname === '/hub/restore'), page.click('#restore-link')]);
    await page.waitForSelector('#snapshot-list button.snapshot');
    expect(await page.locator('#snapshot-list button.snapshot').count()).toBe(1);
    await page.click('#snapshot-list button.snapshot');
    await page.click('#entries tr[data-path="/lab3"] button.link');
    const row = page.locator('#entries tr[data-path="/lab3/analysis.ipynb"]');
    await row.waitFor();
    await row.locator('button.restore-entry').click();
    await page.waitForSelector('#confirm:not([hidden])');
    expect(await page.locator('input[name=mode][value=side]').isChecked()).toBe(true);
    await page.click('#confirm-restore');
    const result = page.locator('#restore-result');
    await result.waitFor({ timeout: 60_000 });
    expect(await result.innerText()).toMatch(/^Restored 1 file \(\d+ B\) of \/lab3\/analysis\.ipynb\. You find it in ~\/restored-\d{8}T\d{6}Z\/lab3\/analysis\.ipynb\.$/);
    const target = (await result.getAttribute('data-target'))!;
    expect(target.startsWith(`${student.home}/restored-`)).toBe(true);
    await shot(page, 'restore');

    const copies = findFiles(target, 'analysis.ipynb');
    expect(copies).toHaveLength(1);
    expect(readFileSync(copies[0]!)).toEqual(Buffer.from(NOTEBOOK));
    expect(statSync(copies[0]!).uid).toBe(student.uid);
    expect(statSync(target).uid).toBe(student.uid);
    // only what was asked for, and the original place untouched
    expect(findFiles(target, 'data.csv')).toHaveLength(0);
    expect(existsSync(original)).toBe(false);

    // in place: the page lists what would be overwritten and needs a second click
    const csv = join(student.home, 'lab3/data.csv');
    writeFileSync(csv, 'x,y\nchanged\n');
    await page.locator('#entries tr[data-path="/lab3/data.csv"] button.restore-entry').click();
    await page.check('input[name=mode][value=in-place]');
    await page.click('#confirm-restore');
    await page.waitForSelector('#overwrite:not([hidden])');
    expect(await page.locator('#overwrite-list li').allInnerTexts()).toEqual(['/lab3/data.csv']);
    expect(await page.locator('#confirm-restore').innerText()).toBe('Overwrite 1 file');
    expect(readFileSync(csv, 'utf8')).toBe('x,y\nchanged\n');
    await page.click('#confirm-restore');
    await page.waitForSelector('#restore-result');
    expect(await page.locator('#restore-result').innerText()).toContain('back in their original place');
    expect(readFileSync(csv, 'utf8')).toBe('x,y\n1,2\n');
    expect(statSync(csv).uid).toBe(student.uid);
    // the plan comes as the API's 409 by design; Chromium logs every 4xx answer as a console error
    expect(errors.filter((e) => !e.includes('status of 409 (Conflict)'))).toEqual([]);
    expect(errors).toHaveLength(1);
    await context.close();
  });

  it("cannot list or open another student's snapshots (API 404), nor their restore page", async () => {
    expect((await api(`/users/${other.name}/backups`, { token: studentToken })).status).toBe(404);
    const [snap] = await (await api(`/users/${other.name}/backups`, { token: adminToken })).json();
    expect((await api(`/users/${other.name}/backups/${snap.id}/files?path=/`, { token: studentToken })).status).toBe(404);
    const restore = await api(`/users/${other.name}/backups/${snap.id}/restore`, { method: 'POST', token: studentToken, body: { path: '/private.txt' } });
    expect(restore.status).toBe(404);
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    await loginAndOpen(page, lab.publicUrl, student.name, student.password, '/hub/home');
    const res = await page.goto(`${lab.publicUrl}/hub/restore/${other.name}`);
    expect(res?.status()).toBe(404);
    await context.close();
    expect(readdirSync(other.home).some((n) => n.startsWith('restored-'))).toBe(false);
  });

  it("shows the admin's Backups view with the run, and lets the admin browse and restore a student's files", async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await loginAndOpen(page, lab.publicUrl, admin.name, admin.password, '/hub/admin');
    await page.waitForSelector('#backup-card');
    await page.click('.side-nav a[data-view="backups"]');
    await page.waitForSelector('#backup-runs tr[data-status="ok"]');
    expect(await page.locator('#backup-repository').innerText()).toBe(join(backupDir, 'repo'));
    await page.click('#backup-runs tr[data-status="ok"] button.link');
    await page.waitForSelector(`#backup-runs tr.run-detail-row tr[data-user="${student.name}"]`);
    expect(await page.locator(`#backup-users tr[data-user="${student.name}"]`).getAttribute('data-stale')).toBe('false');
    await shot(page, 'backups');
    // browse the student's snapshot; in place lists what it would overwrite, cancelled: nothing changes
    await page.click(`#backup-users tr[data-user="${student.name}"] button`);
    await page.click('#snapshot-browser button[data-snapshot]');
    await page.click('#snapshot-browser tr[data-path="/lab3"] button.link');
    const csvRow = page.locator('#snapshot-browser tr[data-path="/lab3/data.csv"] button');
    await csvRow.click();
    await page.check('#restore-in-place');
    await page.click('.dialog-actions button.primary');
    await page.waitForSelector('#overwrite-list');
    expect(await page.locator('#overwrite-list li').allInnerTexts()).toEqual(['/lab3/data.csv']);
    await page.click('.dialog-actions button:has-text("Cancel")');
    // beside the home instead
    const before = readdirSync(student.home).filter((n) => n.startsWith('restored-'));
    await csvRow.click();
    await page.click('.dialog-actions button.primary');
    await page.waitForSelector('.notice-item.ok');
    expect(await page.locator('.notice-item.ok').innerText()).toContain(`Restored 1 file(s)`);
    const added = readdirSync(student.home).filter((n) => n.startsWith('restored-') && !before.includes(n));
    expect(added).toHaveLength(1);
    const copy = join(student.home, added[0]!, 'lab3/data.csv');
    expect(readFileSync(copy, 'utf8')).toBe('x,y\n1,2\n');
    expect(statSync(copy).uid).toBe(student.uid);
    expect(errors.filter((e) => !e.includes('status of 409 (Conflict)'))).toEqual([]);
    await context.close();
  });
});
