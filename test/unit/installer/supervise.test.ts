/**
 * installer/supervise.sh, LabHub's own supervision where systemd is not PID 1, run for real with a
 * stand-in for the labhub command (a sleeping process; the "hub" also starts a detached "student
 * server" the way the local spawner does). The real hub and proxy under it are tested in
 * test/integration/installer.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SUPERVISE = fileURLToPath(new URL('../../../installer/supervise.sh', import.meta.url));

describe('labhub-supervise (installer/supervise.sh)', () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  const sup = (...args: string[]) => spawnSync('bash', [SUPERVISE, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  const pidOf = (name: string) => {
    const m = new RegExp(`${name}: running \\(pid (\\d+)`).exec(sup('status').stdout);
    return m ? Number(m[1]) : null;
  };
  const alive = (pid: number) => spawnSync('kill', ['-0', String(pid)]).status === 0;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'labhub-supervise-'));
    mkdirSync(join(tmp, 'log'));
    const fake = join(tmp, 'labhub');
    writeFileSync(
      fake,
      `#!/bin/bash
# stand-in for the labhub command: "labhub proxy|hub --config FILE"
[ "$2" = --config ] && [ "$3" = "$LABHUB_CONFIG" ] || { echo "bad arguments: $*" >&2; exit 2; }
if [ "$1" = hub ] && [ ! -e ${tmp}/student.pid ]; then
  setsid sleep 1000 </dev/null >/dev/null 2>&1 &
  echo $! > ${tmp}/student.pid
fi
exec sleep 1000
`,
    );
    chmodSync(fake, 0o755);
    env = { ...process.env, LABHUB_RUN_DIR: join(tmp, 'run'), LABHUB_LOG_DIR: join(tmp, 'log'), LABHUB_BIN: fake, LABHUB_CONFIG: join(tmp, 'config.json') };
  });

  afterAll(() => {
    sup('stop', 'all');
    if (existsSync(join(tmp, 'student.pid'))) spawnSync('kill', [readFileSync(join(tmp, 'student.pid'), 'utf8').trim()]);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('starts the proxy and the hub detached, once', () => {
    const r = sup('start');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/proxy started \(pid \d+\)\n.*hub started \(pid \d+\)/);
    expect(sup('status').status).toBe(0);
    expect(sup('start').stdout).toMatch(/proxy is already supervised .*\n.*hub is already supervised/);
    expect(readFileSync(join(tmp, 'run/hub.pid'), 'utf8').trim()).toBe(String(pidOf('hub')));
  });

  it('restarts a service that crashed', async () => {
    const hub = pidOf('hub')!;
    const proxy = pidOf('proxy')!;
    process.kill(hub, 'SIGKILL');
    // down during the 1 s back-off, then a new process
    await expect.poll(() => [null, hub].includes(pidOf('hub')), { timeout: 10_000, interval: 100 }).toBe(false);
    expect(pidOf('proxy')).toBe(proxy);
    expect(readFileSync(join(tmp, 'log/supervise.log'), 'utf8')).toMatch(/hub exited \(status 137\); restarting in 1s/);
  });

  it('stops and restarts the hub alone; the proxy and the students\' servers keep running', () => {
    const proxy = pidOf('proxy')!;
    const student = Number(readFileSync(join(tmp, 'student.pid'), 'utf8'));
    expect(sup('stop', 'hub').stdout).toContain('hub stopped');
    const status = sup('status');
    expect(status.status).toBe(3);
    expect(status.stdout).toContain('hub: not running');
    expect(pidOf('proxy')).toBe(proxy);
    expect(alive(student)).toBe(true);
    expect(sup('restart', 'hub').status).toBe(0);
    expect(pidOf('hub')).not.toBeNull();
    expect(pidOf('proxy')).toBe(proxy);
  });

  it('stops everything it started and leaves no pid files', () => {
    const pids = [pidOf('proxy')!, pidOf('hub')!];
    expect(sup('stop').status).toBe(0);
    expect(pids.map(alive)).toEqual([false, false]);
    expect(execFileSync('ls', ['-A', join(tmp, 'run')], { encoding: 'utf8' })).toBe('');
    expect(sup('status').stdout).toBe('proxy: not running\nhub: not running\n');
    expect(alive(Number(readFileSync(join(tmp, 'student.pid'), 'utf8')))).toBe(true);
  });

  it('rejects an unknown service', () => {
    const r = sup('start', 'database');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown service "database"');
  });
});
