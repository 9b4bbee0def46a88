/**
 * Issue 7 through the whole LabHub (real `labhub serve` with `spawner.kind: "docker"`, real
 * dockerd, the locally built image, real PAM users):
 *   1. the browser journey of the spine: the notebook runs in the student's container as their
 *      uid and supplementary groups in their home, and the file is theirs on the host; the
 *      memory limit comes from the quota policy (`docker inspect`);
 *   4. two students: neither container sees the other's home; the other's server answers only
 *      through the OAuth check (from the container, directly on its port, and through the proxy);
 *   3. hub killed and started again: the running container is re-adopted (same container, none
 *      duplicated), an orphan container is removed, a stopped server's container is gone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubIdFor } from '../../hub/spawner/docker/from-config.js';
import { CookieClient } from '../helpers/browserless-client.js';
import { containersOfUser, docker, ensureDockerAndImage, IMAGE_BUILD_TIMEOUT_MS, inspectContainer, removeUserContainers, TEST_IMAGE } from '../helpers/docker.js';
import { openServer, startServer } from '../helpers/jupyter.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, removeGroup, type TestUser } from '../helpers/linux-users.js';

const GROUP = 'lhtestdkgroup';
const GiB = 1024 * 1024 * 1024;
let lab: LabhubProcess;
let student: TestUser;
let other: TestUser;
let browser: Browser;

beforeAll(async () => {
  ensureDockerAndImage();
  student = createTestUser('dk3', { groups: [GROUP] });
  other = createTestUser('dk4');
  // the server starts 2 s late so the progress page is always seen (see test/e2e/notebook.test.ts)
  lab = await new LabhubProcess({
    config: {
      spawner: {
        kind: 'docker',
        cmd: ['/bin/sh', '-c', 'sleep 2 && exec jupyterhub-singleuser "$@"', 'jupyterhub-singleuser'],
        docker: { image: TEST_IMAGE },
      },
      quota: { defaults: { memory: '1G', cpus: 1 } },
    },
  }).init();
  await lab.startServe();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-sync'],
  });
}, IMAGE_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await lab?.stop();
  removeUserContainers([student, other].filter(Boolean).map((u) => u.name));
  removeAllTestUsers();
  removeGroup(GROUP);
}, 120_000);

function containerId(user: string): string {
  return lab.state().servers[user].state.containerId as string;
}

/** Runs a command in a user's container as the container's user (the student). */
function execIn(user: string, ...argv: string[]): string {
  return execFileSync('docker', ['exec', `labhub-${user}`, ...argv], { encoding: 'utf8' });
}

describe('student in a browser, server in a Docker container', () => {
  it('logs in, sees progress, reaches the notebook UI, and runs a cell as themselves in their home', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen: string[] = [];
    page.on('framenavigated', (f) => f === page.mainFrame() && seen.push(new URL(f.url()).pathname));
    const failures: string[] = [];
    page.on('response', (r) => r.status() >= 400 && failures.push(`${r.status()} ${new URL(r.url()).pathname}`));

    await page.goto(`${lab.publicUrl}/`);
    await page.waitForURL(/\/hub\/login/);
    await page.fill('#username', student.name);
    await page.fill('#password', student.password);
    await Promise.all([page.waitForURL(/\/user\/[^/]+\/tree/, { timeout: 90_000 }), page.click('#login_submit')]);
    expect(seen.some((p) => p.startsWith(`/hub/spawn-pending/${student.name}`))).toBe(true);
    await page.waitForSelector('#notebook_list', { timeout: 30_000 });
    expect(failures).toEqual([]);

    // it is a container, with the quota policy's limits
    const info = inspectContainer(`labhub-${student.name}`);
    expect(info.Id).toBe(containerId(student.name));
    expect(info.State.Running).toBe(true);
    expect(info.HostConfig.Memory).toBe(GiB);
    expect(info.HostConfig.NanoCpus).toBe(1_000_000_000);

    const [nb] = await Promise.all([context.waitForEvent('page'), page.click('#new-dropdown-button').then(() => page.click('#kernel-python3 a'))]);
    await nb.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.(), undefined, { timeout: 60_000 });
    await nb.click('.CodeMirror');
    await nb.keyboard.type('import os; print("RESULT", os.getuid(), os.getcwd(), sorted(os.getgroups()), os.path.exists("/.dockerenv"))');
    await nb.keyboard.press('Shift+Enter');
    const out = nb.locator('.output_area pre', { hasText: 'RESULT' });
    await out.waitFor({ timeout: 30_000 });
    const text = await out.innerText();
    const expectedGroups = execFileSync('id', ['-G', student.name], { encoding: 'utf8' }).trim().split(/\s+/).map(Number).sort((a, b) => a - b);
    const groupId = Number(execFileSync('getent', ['group', GROUP], { encoding: 'utf8' }).split(':')[2]);
    expect(expectedGroups).toContain(groupId);
    expect(text).toContain(`RESULT ${student.uid} ${student.home} [${expectedGroups.join(', ')}] True`);

    await nb.keyboard.press('Control+s');
    await nb.waitForFunction(() => (window as any).Jupyter?.notebook?.dirty === false, undefined, { timeout: 15_000 });
    const file = `${student.home}/Untitled.ipynb`;
    expect(existsSync(file)).toBe(true);
    const st = statSync(file);
    expect([st.uid, st.gid]).toEqual([student.uid, student.gid]);
    await context.close();
  }, 180_000);

  it("two students: neither container sees the other's home, and the other's server answers only through OAuth", async () => {
    const c = new CookieClient(lab.publicUrl);
    expect((await c.login(other.name, other.password)).status).toBe(302);
    await startServer(c, other.name);
    await openServer(c, other.name);

    // only their own home is mounted
    expect(execIn(other.name, 'ls', '/home').trim()).toBe(other.name);
    expect(execIn(student.name, 'ls', '/home').trim()).toBe(student.name);
    expect(execIn(other.name, 'id', '-un').trim()).toBe(other.name);

    // from inside the other student's container, straight to the student's port: OAuth only
    const target = lab.state().servers[student.name].target as string;
    const probe = (path: string) =>
      execIn(other.name, 'python3', '-c', [
        'import sys, urllib.request',
        'class NoRedirect(urllib.request.HTTPRedirectHandler):',
        '    def redirect_request(self, *a, **k): return None',
        'op = urllib.request.build_opener(NoRedirect)',
        'try:',
        '    r = op.open(sys.argv[1]); print(r.status, r.headers.get("Location"))',
        'except urllib.error.HTTPError as e:',
        '    print(e.code, e.headers.get("Location"))',
      ].join('\n'), `${target}${path}`).trim();
    expect(probe(`/user/${student.name}/api/contents`)).toMatch(/^403 /);
    expect(probe(`/user/${student.name}/tree`)).toMatch(new RegExp(`^302 /hub/api/oauth2/authorize\\?client_id=jupyterhub-user-${student.name}&`));

    // through the proxy with the other student's login: OAuth refuses, nothing of the student's shows
    for (const path of [`/user/${student.name}/tree`, `/user/${student.name}/api/contents`]) {
      const res = await c.get(path);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.body).not.toContain('Untitled.ipynb');
    }
  }, 120_000);

  it('hub killed and restarted: the running container is re-adopted, none duplicated; orphan and stopped containers removed', async () => {
    const running = containerId(student.name);
    // the other student stops their server: with removeOnStop its container goes
    const { token } = JSON.parse(readFileSync(join(lab.dataDir, 'data', 'cli-token'), 'utf8')) as { token: string };
    const del = await fetch(`${lab.publicUrl}/hub/api/users/${other.name}/server`, { method: 'DELETE', headers: { authorization: `token ${token}` } });
    expect([202, 204]).toContain(del.status);
    for (let i = 0; i < 100 && containersOfUser(other.name).length; i++) await new Promise((r) => setTimeout(r, 200));
    expect(containersOfUser(other.name)).toEqual([]);
    // the Quotas view and API say who enforces memory/CPU: Docker, not a local cgroup
    const quota = await (await fetch(`${lab.publicUrl}/hub/api/labhub/quota`, { headers: { authorization: `token ${token}` } })).json();
    expect(quota.memory.inForce).toBe('docker');

    await lab.killServe('SIGKILL');
    // while the hub is down, a container of this hub that no record owns appears
    const hubId = hubIdFor(join(lab.dataDir, 'data'));
    const orphan = docker('run', '-d', '--name', `labhub-${other.name}`, '--label', `org.labhub.hub=${hubId}`, '--label', `org.labhub.user=${other.name}`, '--network', 'none', TEST_IMAGE, 'sleep', '300');
    expect(inspectContainer(`labhub-${student.name}`)?.State.Running).toBe(true);

    await lab.startServe();
    expect(inspectContainer(orphan)).toBeNull();
    expect(containersOfUser(student.name)).toEqual([running]);
    const rec = lab.state().servers[student.name];
    expect(rec.status).toBe('running');
    expect(rec.state.containerId).toBe(running);

    // the student carries on through the proxy without starting anything
    const c = new CookieClient(lab.publicUrl);
    expect((await c.login(student.name, student.password)).status).toBe(302);
    await openServer(c, student.name);
    const res = await c.get(`/user/${student.name}/api/contents`);
    expect(res.status).toBe(200);
    expect(res.body).toContain('Untitled.ipynb');
    expect(containersOfUser(student.name)).toEqual([running]);
  }, 180_000);
});
