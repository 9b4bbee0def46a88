/**
 * install.sh's command line: wrong usage stops with exit code 2 and one clear line, before any
 * check that looks at the system (so these run safely on the test machine, as root).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestUser, removeAllTestUsers } from '../../helpers/linux-users.js';

const INSTALL = fileURLToPath(new URL('../../../installer/install.sh', import.meta.url));
const install = (...args: string[]) => spawnSync('bash', [INSTALL, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('install.sh usage', () => {
  it('--help prints the usage', () => {
    const r = install('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('install.sh --uninstall [--purge] [--dry-run]');
    expect(r.stdout).toContain('Exit codes: 0 done; 1 a step failed; 2 bad usage or not root; 3 unsupported system;');
  });

  afterAll(() => removeAllTestUsers());

  it('run by the control app through pkexec, it makes the person who clicked "Install" the first admin (dry run)', () => {
    const teacher = createTestUser('instadm');
    const r = spawnSync('bash', [INSTALL, '--dry-run'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, PKEXEC_UID: String(teacher.uid) } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`admins: group labhub-admin = ${teacher.name})`);
    expect(r.stdout).toContain('dry run: this is the plan; nothing was changed');
  });

  it.each([
    [['--bogus'], 'unknown option "--bogus"'],
    [['--purge'], '--purge goes with --uninstall'],
    [['--tls', 'letsencrypt'], '--tls: only "self-signed" (or give --tls-cert and --tls-key)'],
    [['--tls-cert', '/etc/hostname'], '--tls-cert and --tls-key go together'],
    [['--tls-cert', '/nonexistent.crt', '--tls-key', '/nonexistent.key'], 'cannot read /nonexistent.crt or /nonexistent.key'],
    [['--hostname', 'lab.example'], '--hostname goes with --tls self-signed'],
    [['--port', '99999'], '--port: expected a port number, got "99999"'],
    [['--admin', 'Bad Name'], '--admin "Bad Name" is not a valid Linux user name'],
    [['--admin', 'root'], '--admin "root" is not a valid Linux user name'],
  ])('%j → exit 2: %s', (args, message) => {
    const r = install(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`labhub install: ${message}`);
  });
});
