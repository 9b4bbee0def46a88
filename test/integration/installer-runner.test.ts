/**
 * The installer runner with a real pty (node-pty) and a real bash script standing in for
 * installer/install.sh (test/fixtures/installer-demo.sh), and once the real installer/install.sh
 * (a dry run). Tests run as root, so the script runs directly; the pkexec path is only checked as
 * an argv (no polkit agent here).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { InstallerExit } from '../../main/ipc/contract.js';
import { InstallerRunner } from '../../main/installer-runner.js';
import { resolveAppConfig } from '../../main/app-config.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/installer-demo.sh', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

function collector() {
  let output = '';
  let resolveExit!: (e: InstallerExit) => void;
  const exit = new Promise<InstallerExit>((r) => (resolveExit = r));
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  return {
    listener: {
      onOutput: (_id: string, data: string) => {
        output += data;
        for (const w of waiters) if (output.includes(w.text)) w.resolve();
      },
      onExit: (e: InstallerExit) => resolveExit(e),
    },
    exit,
    output: () => output,
    waitFor: (text: string, ms = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (output.includes(text)) return resolve();
        waiters.push({ text, resolve });
        setTimeout(() => reject(new Error(`no "${text}" within ${ms} ms; output:\n${JSON.stringify(output)}`)), ms).unref();
      }),
  };
}

describe('InstallerRunner (real pty, real script)', () => {
  let runner: InstallerRunner | null = null;
  afterEach(async () => {
    await runner?.close();
    runner = null;
  });

  it('streams the coloured output of the script and reports its exit code', async () => {
    runner = new InstallerRunner({ script: SCRIPT });
    expect(runner.argv()).toEqual(['/bin/bash', SCRIPT]); // root: no pkexec
    const c = collector();
    const { id } = runner.run(c.listener, { cols: 100, rows: 30 });
    const exit = await c.exit;
    expect(exit).toEqual({ id, exitCode: 3, signal: null, cancelled: false });
    expect(c.output()).toContain('\x1b[1;32m==>\x1b[0m step one');
    expect(c.output()).toContain('running as uid 0 on a tty: yes');
    expect(c.output()).toContain('\x1b[1;31mfailed\x1b[0m on purpose');
    expect(runner.running).toBe(false);
  });

  it('refuses a second run while one is going, and cancels with Ctrl-C so the script cleans up', async () => {
    runner = new InstallerRunner({ script: SCRIPT, args: ['wait'], cancelGraceMs: 3000 });
    const c = collector();
    const { id } = runner.run(c.listener);
    await c.waitFor('waiting for cancel'); // streamed while the script still runs
    expect(() => runner!.run(collector().listener)).toThrow(expect.objectContaining({ code: 'BUSY' }));
    await expect(runner.cancel('not-this-one')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const started = Date.now();
    await runner.cancel(id);
    const exit = await c.exit;
    expect(Date.now() - started).toBeLessThan(2500); // Ctrl-C did it; no SIGKILL grace needed
    expect(exit).toEqual({ id, exitCode: 130, signal: null, cancelled: true });
    expect(c.output()).toContain('interrupted: cleaning up');
    expect(c.output()).not.toContain('on purpose');
  });

  it('kills a script that ignores Ctrl-C after the grace period', async () => {
    runner = new InstallerRunner({ script: '-c', interpreter: ['/bin/bash'], args: ["trap '' INT; echo stubborn; sleep 60"], cancelGraceMs: 300 });
    const c = collector();
    const { id } = runner.run(c.listener);
    await c.waitFor('stubborn');
    await runner.cancel(id);
    const exit = await c.exit;
    expect(exit.cancelled).toBe(true);
    expect(exit).toEqual({ id, exitCode: null, signal: 15, cancelled: true }); // SIGTERM to its process group
  });

  it('runs the real installer the app ships (installer/install.sh, as resolveAppConfig finds it): its uninstall plan, changing nothing', async () => {
    const cfg = resolveAppConfig({}, { appRoot: ROOT, resourcesRoot: ROOT, execPath: process.execPath }, () => false);
    expect(cfg.installerScript).toBe(join(ROOT, 'installer/install.sh'));
    runner = new InstallerRunner({ script: cfg.installerScript, args: ['--uninstall', '--dry-run'] });
    const c = collector();
    const { id } = runner.run(c.listener, { cols: 120, rows: 30 });
    expect(await c.exit).toEqual({ id, exitCode: 0, signal: null, cancelled: false });
    expect(c.output()).toContain('dry run: this is the plan; nothing was changed');
    expect(c.output()).toContain('remove /opt/labhub and /usr/local/bin/labhub');
  });

  it('runs through pkexec when not root', () => {
    const r = new InstallerRunner({ script: '/opt/LabHub/resources/installer/install.sh', root: false });
    expect(r.argv()).toEqual(['pkexec', '/bin/bash', '/opt/LabHub/resources/installer/install.sh']);
  });
});
