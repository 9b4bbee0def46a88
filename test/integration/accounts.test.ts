/**
 * The accounts API (docs/admin-api.md, "Accounts (Linux users)") against the real `labhub serve`,
 * real useradd/chpasswd/userdel/tar and real PAM logins. Every account and group made here starts
 * with `lhtest`, and afterAll removes them (and homes kept on purpose) even when a test failed.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxAccounts } from '../../hub/accounts/linux-accounts.js';
import { CookieClient } from '../helpers/browserless-client.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, removeGroup, removeTestUser, type TestUser } from '../helpers/linux-users.js';
import { hubApi } from '../helpers/hub-api.js';

const CLASS = 'lhtestcls';
const CLASS2 = 'lhtestcls2';
/** Everything the API may create here, removed in afterAll whatever happened. */
const MADE_USERS = ['lhtestac1', 'lhtestac2', 'lhtestac4', 'lhtestrk', 'lhtestra', 'lhtestrd'];
const MADE_GROUPS = [CLASS, CLASS2];
const PLAYGROUND = ['/home/lhtestsym', '/home/lhtestnotmine', '/tmp/lhtest-target'];

let lab: LabhubProcess;
let admin: TestUser;
let student: TestUser;
let old: TestUser;
let adminToken: string;
let studentToken: string;

const { api, tokenFor } = hubApi(() => lab.publicUrl);
const asAdmin = async (method: string, path: string, body?: unknown) => {
  const res = await api(`/labhub/accounts${path}`, { method, token: adminToken, body });
  return { status: res.status, body: await res.json() };
};

const getent = (db: string, key: string) => spawnSync('getent', [db, key], { encoding: 'utf8' });
const exists = (name: string) => getent('passwd', name).status === 0;
const groupsOf = (name: string) => execFileSync('id', ['-nG', name], { encoding: 'utf8' }).trim().split(' ');
const login = async (name: string, password: string) => (await new CookieClient(lab.publicUrl).login(name, password)).status;

beforeAll(async () => {
  admin = createTestUser('acadm');
  student = createTestUser('acstu');
  old = createTestUser('acold');
  lab = await new LabhubProcess({
    config: { auth: { adminUsers: [admin.name], maxFailuresPerUser: 3, maxFailuresPerAddress: 100, lockoutSeconds: 600 }, culler: { enabled: false } },
  }).init();
  await lab.startServe();
  adminToken = await tokenFor(admin);
  studentToken = await tokenFor(student);
});

afterAll(async () => {
  await lab?.stop();
  removeAllTestUsers();
  for (const name of MADE_USERS) {
    removeTestUser(name);
    rmSync(`/home/${name}`, { recursive: true, force: true });
  }
  for (const g of MADE_GROUPS) removeGroup(g);
  for (const p of PLAYGROUND) rmSync(p, { recursive: true, force: true });
});

const ROSTER = [
  'name;full name;group;password',
  `lhtestac1;Ada Lovelace;${CLASS};`,
  `lhtestac2;"Hopper; Grace";${CLASS};given-pass-1`,
  `Bad-Name;Bad Name;${CLASS};`,
  `lhtestac3;Short Password;${CLASS};short`,
  `lhtestac1;Ada Again;${CLASS};`,
  `lhtestacold;Already There;${CLASS};ignored-pw-1`,
].join('\n');

describe('accounts API', () => {
  it('answers 403 to a student and to nobody on all four endpoints', async () => {
    const calls: Array<[string, string, unknown?]> = [
      ['POST', '/labhub/accounts/preview', { csv: ROSTER }],
      ['POST', '/labhub/accounts', { csv: ROSTER }],
      ['POST', `/labhub/accounts/${old.name}/password`, {}],
      ['DELETE', `/labhub/accounts/${old.name}?home=delete`],
    ];
    for (const [method, path, body] of calls) {
      for (const token of [studentToken, undefined]) {
        const res = await api(path, { method, token, body });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect((await res.json()).status).toBe(403);
      }
    }
    expect(exists('lhtestac1')).toBe(false);
    expect(exists(old.name)).toBe(true);
  });

  it('previews valid, invalid-name, short-password, duplicate and existing rows and changes nothing', async () => {
    const before = readFileSync('/etc/passwd', 'utf8');
    const { status, body } = await asAdmin('POST', '/preview', { csv: ROSTER });
    expect(status).toBe(200);
    expect(body.summary).toEqual({ create: 2, exists: 1, invalid: 2, duplicate: 1 });
    expect(body.rows.map((r: { line: number; action: string }) => [r.line, r.action])).toEqual([
      [2, 'create'],
      [3, 'create'],
      [4, 'invalid'],
      [5, 'invalid'],
      [6, 'duplicate'],
      [7, 'exists'],
    ]);
    expect(body.rows[1]).toEqual({ line: 3, name: 'lhtestac2', fullName: 'Hopper; Grace', group: CLASS, passwordGiven: true, action: 'create', problems: [] });
    expect(body.rows[2].problems[0]).toMatch(/"Bad-Name" is not a valid user name/);
    expect(body.rows[3].problems).toEqual(['The password is shorter than 8 characters.']);
    expect(body.rows[4].problems).toEqual(['"lhtestac1" appears already on line 2.']);
    expect(JSON.stringify(body)).not.toContain('given-pass-1');
    expect(readFileSync('/etc/passwd', 'utf8')).toBe(before);
    expect(getent('group', CLASS).status).not.toBe(0);
    expect(lab.state().users.lhtestac1).toBeUndefined();
  });

  it('creates the accounts: home 0700 from /etc/skel, bash, full name, group, hub user and group, a working password', async () => {
    const { status, body } = await asAdmin('POST', '', { csv: ROSTER });
    expect(status).toBe(200);
    expect(body.summary).toEqual({ created: 2, updated: 1, skipped: 3, failed: 0 });
    const [ac1, ac2, bad, short, dup, upd] = body.rows;
    expect(ac1).toMatchObject({ line: 2, name: 'lhtestac1', status: 'created' });
    expect(ac1.password).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    expect(ac2).toMatchObject({ name: 'lhtestac2', status: 'created', password: 'given-pass-1' });
    for (const skipped of [bad, short, dup]) {
      expect(skipped.status).toBe('skipped');
      expect(skipped.password).toBeUndefined();
      expect(skipped.message).toBeTruthy();
    }
    expect(upd).toMatchObject({ name: old.name, status: 'updated' });
    expect(upd.password).toBeUndefined();

    const pw = getent('passwd', 'lhtestac1').stdout.trim().split(':');
    expect(pw[4]).toBe('Ada Lovelace');
    expect(pw[5]).toBe('/home/lhtestac1');
    expect(pw[6]).toBe('/bin/bash');
    const uid = Number(pw[2]);
    expect(uid).toBeGreaterThanOrEqual(1000);
    const home = statSync('/home/lhtestac1');
    expect(home.isDirectory()).toBe(true);
    expect(home.mode & 0o777).toBe(0o700);
    expect(home.uid).toBe(uid);
    expect(statSync('/home/lhtestac1/.bashrc').uid).toBe(uid);
    expect(groupsOf('lhtestac1')).toEqual(expect.arrayContaining(['lhtestac1', CLASS]));
    expect(getent('passwd', 'lhtestac2').stdout.split(':')[4]).toBe('Hopper; Grace');
    expect(groupsOf(old.name)).toContain(CLASS);

    const state = lab.state();
    expect(state.users.lhtestac1).toMatchObject({ name: 'lhtestac1', admin: false });
    expect(state.users[old.name]).toBeDefined();
    expect(state.groups[CLASS].users.sort()).toEqual(['lhtestac1', 'lhtestac2', old.name].sort());

    expect(await login('lhtestac1', ac1.password)).toBe(302);
    expect(await login('lhtestac2', 'given-pass-1')).toBe(302);
    // an existing account keeps its password
    expect(await login(old.name, old.password)).toBe(302);
    expect(await login(old.name, 'ignored-pw-1')).toBe(403);

    // passwords are answered once: not in the state, the hub's logs or its output
    const files = readdirSync(lab.dataDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    for (const f of files) {
      const text = readFileSync(join(f.parentPath, f.name), 'utf8');
      expect(text, join(f.parentPath, f.name)).not.toContain(ac1.password);
      expect(text, join(f.parentPath, f.name)).not.toContain('given-pass-1');
    }
  });

  it('rolls a row back when a step after useradd fails (a real chpasswd refusal: line too long)', async () => {
    const long = 'x'.repeat(9000);
    const { status, body } = await asAdmin('POST', '', { users: [{ name: 'lhtestac4', fullName: 'Too Long', group: CLASS2, password: long }] });
    expect(status).toBe(200);
    expect(body.summary).toEqual({ created: 0, updated: 0, skipped: 0, failed: 1 });
    expect(body.rows[0]).toMatchObject({ name: 'lhtestac4', status: 'failed' });
    expect(body.rows[0].message).toMatch(/^chpasswd failed: .*line too long/);
    expect(body.rows[0].password).toBeUndefined();
    expect(exists('lhtestac4')).toBe(false);
    expect(existsSync('/home/lhtestac4')).toBe(false);
    expect(getent('group', 'lhtestac4').status).not.toBe(0);
    expect(getent('group', CLASS2).status).not.toBe(0);
    expect(lab.state().users.lhtestac4).toBeUndefined();
    expect(lab.state().groups[CLASS2]).toBeUndefined();
  });

  it('resets a password: clears the lockout, the old password fails and the new one works', async () => {
    for (let i = 0; i < 3; i++) await login('lhtestac2', `wrong-${i}`);
    expect(await login('lhtestac2', 'given-pass-1')).toBe(429);
    const { status, body } = await asAdmin('POST', '/lhtestac2/password', {});
    expect(status).toBe(200);
    expect(body.name).toBe('lhtestac2');
    expect(body.password).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    expect(lab.state().loginFailures.users.lhtestac2).toBeUndefined();
    expect(await login('lhtestac2', 'given-pass-1')).toBe(403);
    expect(await login('lhtestac2', body.password)).toBe(302);

    expect((await asAdmin('POST', '/lhtestac2/password', { password: 'short' })).status).toBe(400);
    const chosen = await asAdmin('POST', '/lhtestac2/password', { password: 'chosen-pass-9' });
    expect(chosen.body).toEqual({ name: 'lhtestac2', password: 'chosen-pass-9' });
    expect(await login('lhtestac2', 'chosen-pass-9')).toBe(302);

    for (const [name, code] of [
      ['root', 400],
      ['daemon', 400],
      ['Bad%20Name', 400],
      ['lhtestnobody', 404],
    ] as const) {
      const res = await asAdmin('POST', `/${name}/password`, {});
      expect(res.status, name).toBe(code);
    }
  });

  it('refuses to remove root, system accounts, your own account, or without a choice for the home', async () => {
    const root = await asAdmin('DELETE', '/root?home=keep');
    expect(root.status).toBe(400);
    expect(root.body.message).toMatch(/system account/);
    expect((await asAdmin('DELETE', '/daemon?home=keep')).status).toBe(400);
    const own = await asAdmin('DELETE', `/${admin.name}?home=keep`);
    expect(own.status).toBe(400);
    expect(own.body.message).toMatch(/your own account/);
    expect((await asAdmin('DELETE', '/lhtestac1')).status).toBe(400);
    expect((await asAdmin('DELETE', '/lhtestnobody?home=delete')).status).toBe(404);
    expect(exists('root') && exists('daemon') && exists(admin.name) && exists('lhtestac1')).toBe(true);
  });

  it('removes users keeping, archiving or deleting the home, after ending their processes', async () => {
    const made = await asAdmin('POST', '', { users: ['lhtestrk', 'lhtestra', 'lhtestrd'].map((name) => ({ name, group: CLASS })) });
    expect(made.body.summary.created).toBe(3);
    const ids = (name: string) => getent('passwd', name).stdout.split(':').slice(2, 4).map(Number) as [number, number];
    const [raUid, raGid] = ids('lhtestra');
    const [rkUid] = ids('lhtestrk');
    mkdirSync('/home/lhtestra/work');
    writeFileSync('/home/lhtestra/work/notes.txt', 'my notes', { mode: 0o640 });
    chownSync('/home/lhtestra/work', raUid, raGid);
    chownSync('/home/lhtestra/work/notes.txt', raUid, raGid);
    const sleeper = spawn('sleep', ['300'], { uid: raUid, gid: raGid, stdio: 'ignore' });
    const gone = new Promise((r) => sleeper.once('exit', r));

    const kept = await asAdmin('DELETE', '/lhtestrk?home=keep');
    expect(kept).toEqual({ status: 200, body: { name: 'lhtestrk', home: 'kept', archive: null } });
    expect(exists('lhtestrk')).toBe(false);
    expect(statSync('/home/lhtestrk').uid).toBe(rkUid);

    const archived = await asAdmin('DELETE', '/lhtestra?home=archive');
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({ name: 'lhtestra', home: 'archived' });
    await gone;
    const file: string = archived.body.archive;
    expect(file).toMatch(new RegExp(`^${join(lab.dataDir, 'data', 'archive')}/lhtestra-\\d{8}T\\d{6}Z\\.tar\\.gz$`));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(lab.dataDir, 'data', 'archive')).mode & 0o777).toBe(0o700);
    const listing = execFileSync('tar', ['--list', '--verbose', '--numeric-owner', '--gzip', '--file', file], { encoding: 'utf8' });
    expect(listing).toMatch(new RegExp(`^drwx------ ${raUid}/${raGid} .* lhtestra/$`, 'm'));
    expect(listing).toMatch(new RegExp(`^-rw-r----- ${raUid}/${raGid} .* lhtestra/work/notes\\.txt$`, 'm'));
    expect(listing).toMatch(/ lhtestra\/\.bashrc$/m);
    expect(exists('lhtestra')).toBe(false);
    expect(existsSync('/home/lhtestra')).toBe(false);

    const deleted = await asAdmin('DELETE', '/lhtestrd?home=delete');
    expect(deleted).toEqual({ status: 200, body: { name: 'lhtestrd', home: 'deleted', archive: null } });
    expect(exists('lhtestrd')).toBe(false);
    expect(existsSync('/home/lhtestrd')).toBe(false);

    const state = lab.state();
    for (const name of ['lhtestrk', 'lhtestra', 'lhtestrd']) {
      expect(state.users[name]).toBeUndefined();
      expect(state.groups[CLASS].users).not.toContain(name);
    }
    expect(getent('group', CLASS).status).toBe(0);
  });

  it('never archives or deletes a home that is not a plain directory under /home owned by the account', async () => {
    const linux = new LinuxAccounts({ minUid: 1000, dataDir: join(lab.dataDir, 'direct') });
    mkdirSync('/tmp/lhtest-target', { recursive: true });
    writeFileSync('/tmp/lhtest-target/keep-me', 'x');
    symlinkSync('/tmp/lhtest-target', '/home/lhtestsym');
    mkdirSync('/home/lhtestnotmine');
    const acct = (home: string, uid = 54321) => ({ name: 'lhtestghost', uid, gid: uid, home });
    for (const home of ['/', '/home', '/home/', '/tmp/lhtest-target', '/home/../tmp/lhtest-target', 'home/lhtestsym', '/home/lhtestsym', '/home/lhtestnotmine']) {
      await expect(linux.deleteHome(acct(home)), home).rejects.toMatchObject({ code: 'HUB_ERR_ACCOUNT_PROTECTED' });
      await expect(linux.archiveHome(acct(home)), home).rejects.toMatchObject({ code: 'HUB_ERR_ACCOUNT_PROTECTED' });
    }
    await expect(linux.deleteHome({ name: 'root', uid: 0, gid: 0, home: '/root' })).rejects.toMatchObject({ code: 'HUB_ERR_ACCOUNT_PROTECTED' });
    await expect(linux.killProcesses(0)).rejects.toMatchObject({ code: 'HUB_ERR_ACCOUNT_PROTECTED' });
    await expect(linux.killProcesses(999)).rejects.toMatchObject({ code: 'HUB_ERR_ACCOUNT_PROTECTED' });
    expect(readFileSync('/tmp/lhtest-target/keep-me', 'utf8')).toBe('x');
    expect(existsSync('/home/lhtestnotmine')).toBe(true);
    expect(existsSync(join(lab.dataDir, 'direct', 'archive')) ? readdirSync(join(lab.dataDir, 'direct', 'archive')) : []).toEqual([]);
  });
});
