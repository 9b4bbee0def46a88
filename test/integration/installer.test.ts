/**
 * Acceptance 1–3 of the installer (installer/install.sh) on a fresh Debian 12 container built from
 * Debian's packages (test/helpers/installer-container.ts), with the release tarball of this
 * checkout: install from the package mirror, a student logs in through the proxy on port 8000 and
 * the real OAuth flow to a running notebook; re-running upgrades while the student's server and
 * kernel keep running; --uninstall keeps homes, state and config; --purge removes state and config.
 * systemd is not PID 1 in the container, so this runs the installer's own supervision (the
 * systemd units are checked in test/unit/installer/systemd-units.test.ts). The container shares
 * this machine's network (apt reaches the same mirror), so ports 8000, 8001 and 8081 must be free.
 */
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../helpers/browserless-client.js';
import { KernelChannel, openServer, startKernel, startServer } from '../helpers/jupyter.js';
import { buildRelease, ensureBaseImage, portInUse, removeRelease, TestMachine, type RunResult } from '../helpers/installer-container.js';

const STUDENT = 'student';
const PASSWORD = 'Class-of-2026!';

function ok(r: RunResult): RunResult {
  if (r.code !== 0) throw new Error(`install.sh exited ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`);
  return r;
}

describe('install.sh on a fresh Debian 12 machine: install, log in, upgrade, uninstall, purge', () => {
  let m: TestMachine;
  let c: CookieClient;
  let kernel: KernelChannel | null = null;

  const pids = async () => {
    const out = await m.must('/opt/labhub/bin/labhub-supervise status');
    return { proxy: Number(/proxy: running \(pid (\d+)/.exec(out)?.[1]), hub: Number(/hub: running \(pid (\d+)/.exec(out)?.[1]) };
  };
  const serverPid = async () => Number((await m.must(`python3 -c 'import json; print(json.load(open("/var/lib/labhub/state.json"))["servers"]["${STUDENT}"]["state"]["pid"])'`)).trim());
  const alive = async (pid: number) => (await m.sh(`kill -0 ${pid}`)).code === 0;

  beforeAll(async () => {
    await ensureBaseImage();
    for (const port of [8000, 8001, 8081]) {
      if (await portInUse(port)) throw new Error(`port ${port} is in use on this machine; the test container shares its network and LabHub's installed ports`);
    }
    m = await TestMachine.start({ network: 'host', release: await buildRelease() });
    await m.markBaseline();
  }, 600_000);

  afterAll(async () => {
    kernel?.close();
    await m?.remove();
    removeRelease();
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    const r = ok(await m.install(['--admin', 'teacher', '--dry-run']));
    expect(r.stdout).toContain('on debian 12, services by supervise');
    expect(r.stdout).toMatch(/1\. install jupyterhub python3-notebook python3-ipykernel restic/);
    expect(r.stdout).toContain('write /etc/labhub/config.json (port 8000');
    expect(r.stdout).toContain('systemd is not PID 1 here');
    expect(await m.changes()).toEqual([]);
  });

  it('installs from the mirror: the hub answers on port 8000, a student logs in and reaches a running notebook', async () => {
    const r = ok(await m.install(['--admin', 'teacher']));
    expect(r.stdout).toMatch(/==> \[1\/5\] install jupyterhub/);
    expect(r.stdout).toMatch(/LabHub 0\.1\.0 is running: http:\/\/\S+:8000\//);
    expect(await m.must('stat -c "%a %U %G" /etc/labhub/config.json /var/log/labhub /opt/labhub/bin/labhub')).toBe('640 root labhub-admin\n750 root labhub-admin\n755 root root\n');
    expect(await m.must('stat -c "%a %U" /var/lib/labhub/state.json')).toBe('600 root\n');
    expect(await m.must('id -nG teacher')).toContain('labhub-admin');
    expect(JSON.parse(await m.must('cat /etc/labhub/config.json'))).toMatchObject({ port: 8000, dataDir: '/var/lib/labhub', logDir: '/var/log/labhub', auth: { adminGroups: ['labhub-admin'] } });
    // the installed command, on the release's own Node (Debian's nodejs 18, pulled in by jupyterhub, is not used)
    expect(await m.must('labhub --version')).toBe('labhub 0.1.0\n');

    await m.must(`useradd -m -s /bin/bash ${STUDENT} && chpasswd`, { input: `${STUDENT}:${PASSWORD}\n` });
    c = new CookieClient('http://127.0.0.1:8000');
    expect((await c.login(STUDENT, PASSWORD)).status).toBe(302);
    await startServer(c, STUDENT);
    await openServer(c, STUDENT);
    const status = await c.raw(`/user/${STUDENT}/api/status`);
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body)).toHaveProperty('started');
    expect(await m.must(`stat -c %U /proc/${await serverPid()}`)).toBe(`${STUDENT}\n`);
  }, 600_000);

  it('its supervision restarts a hub that crashed', async () => {
    const before = await pids();
    await m.must(`kill -KILL ${before.hub}`);
    // down during the supervisor's 1 s back-off, then a new hub process
    await expect.poll(async () => [0, before.hub].includes((await pids().catch(() => ({ hub: 0 }))).hub), { timeout: 30_000, interval: 250 }).toBe(false);
    await expect.poll(async () => (await c.raw('/hub/api').catch(() => ({ status: 0 }))).status, { timeout: 30_000, interval: 250 }).toBe(200);
    expect((await pids()).proxy).toBe(before.proxy);
    expect(await m.must('cat /var/log/labhub/supervise.log')).toMatch(/hub exited \(status 137\); restarting in 1s/);
  });

  it('re-running upgrades: config and state kept, the student\'s server and kernel keep running', async () => {
    // an admin's own setting, and a kernel with state in it
    await m.must(`python3 -c 'import json; p="/etc/labhub/config.json"; c=json.load(open(p)); c["culler"]={"idleTimeoutSeconds": 7200}; json.dump(c, open(p, "w"))'`);
    kernel = await KernelChannel.open(c, STUDENT, await startKernel(c, STUDENT));
    expect(await kernel.execute('x = 41; print("set")')).toBe('set\n');
    const before = await pids();
    const server = await serverPid();

    const r = ok(await m.install([]));
    expect(r.stdout).toContain('an install of LabHub 0.1.0 is here: this run upgrades it');
    expect(r.stdout).toContain('proxy unchanged: left running');
    expect(r.stdout).not.toMatch(/install jupyterhub/); // nothing to fetch: no packages missing

    const after = await pids();
    expect(after.hub).not.toBe(before.hub);
    expect(after.proxy).toBe(before.proxy);
    expect(await alive(server)).toBe(true);
    expect(await serverPid()).toBe(server); // re-adopted by the new hub
    expect(kernel.open).toBe(true);
    expect(await kernel.execute('print(x + 1)')).toBe('42\n');
    expect((await c.raw(`/user/${STUDENT}/api/status`)).status).toBe(200);
    expect(JSON.parse(await m.must('cat /etc/labhub/config.json')).culler).toEqual({ idleTimeoutSeconds: 7200 });
    expect(await m.must('ls /var/lib/labhub')).toContain('state.json.pre-upgrade');
    const model = await c.raw(`/hub/api/users/${STUDENT}`, { headers: { referer: 'http://127.0.0.1:8000/hub/home' } });
    expect(JSON.parse(model.body)).toMatchObject({ name: STUDENT, server: `/user/${STUDENT}/` });
  }, 300_000);

  it('--tls self-signed: the proxy speaks https with a certificate from the lab\'s own CA (labhub tls init)', async () => {
    const server = await serverPid();
    const r = ok(await m.install(['--tls', 'self-signed', '--hostname', 'labhub.test']));
    expect(r.stdout).toContain('HTTPS: a local CA and certificate in /etc/labhub/tls');
    expect(r.stdout).toMatch(/is running: https:\/\/\S+:8000\//);
    expect(JSON.parse(await m.must('cat /etc/labhub/config.json')).proxy.tls).toMatchObject({ cert: '/etc/labhub/tls/server.crt', key: '/etc/labhub/tls/server.key', caCert: '/etc/labhub/tls/ca.crt' });
    const ca = await m.must('cat /etc/labhub/tls/ca.crt');
    const body = await new Promise<string>((resolve, reject) => {
      request('https://127.0.0.1:8000/hub/api', { ca }, (res) => {
        let b = '';
        res.setEncoding('utf8').on('data', (d: string) => (b += d)).on('end', () => resolve(`${res.statusCode} ${b}`));
      })
        .on('error', reject)
        .end();
    });
    expect(body).toMatch(/^200 \{"version":/);
    expect(await alive(server)).toBe(true);
  }, 300_000);

  it('--uninstall removes the services and the program, keeps homes, state and config, and says so', async () => {
    const server = await serverPid();
    const r = ok(await m.install(['--uninstall']));
    expect(r.stdout).toContain('LabHub is uninstalled.');
    expect(r.stdout).toMatch(/kept:\n {2}\/home \(students' homes\)\n {2}\/var\/lib\/labhub\n {2}\/etc\/labhub\n {2}\/var\/log\/labhub\n/);
    expect(await portInUse(8000)).toBe(false);
    expect(await alive(server)).toBe(false);
    expect((await m.sh('pgrep -f "supervise.sh _loo[p]|dist/hub/mai[n].js"')).code).toBe(1);
    expect((await m.sh('test -e /opt/labhub || test -e /usr/local/bin/labhub')).code).toBe(1);
    await m.must(`test -d /home/${STUDENT} && test -f /var/lib/labhub/state.json && test -f /etc/labhub/config.json`);
  });

  it('--uninstall --purge removes state, config and logs, and keeps the homes', async () => {
    const r = ok(await m.install(['--uninstall', '--purge']));
    expect(r.stdout).toMatch(/removed:\n {2}\/var\/lib\/labhub\n {2}\/etc\/labhub\n {2}\/var\/log\/labhub\n/);
    expect((await m.sh('test -e /var/lib/labhub || test -e /etc/labhub || test -e /var/log/labhub')).code).toBe(1);
    expect((await m.sh('getent group labhub-admin')).code).toBe(2); // 2: no such group
    await m.must(`test -d /home/${STUDENT}`);
  });
});
