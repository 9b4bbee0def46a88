/**
 * "Open a terminal as <student>" with a real pty, real `runuser -l` and a real Linux account
 * made by the test (runs as root, so no pkexec; the pkexec argv is checked on its own).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TerminalExit } from '../../main/ipc/contract.js';
import { checkStudentAccount, TerminalManager } from '../../main/terminal.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';

function collector() {
  let output = '';
  const waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  let resolveExit!: (e: TerminalExit) => void;
  const exit = new Promise<TerminalExit>((r) => (resolveExit = r));
  return {
    listener: {
      onData: (_id: string, data: string) => {
        output += data;
        for (const w of waiters) if (w.re.test(output)) w.resolve();
      },
      onExit: (e: TerminalExit) => resolveExit(e),
    },
    exit,
    output: () => output,
    waitFor: (re: RegExp, ms = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(output)) return resolve();
        waiters.push({ re, resolve });
        setTimeout(() => reject(new Error(`no ${re} within ${ms} ms; output:\n${JSON.stringify(output)}`)), ms).unref();
      }),
  };
}

describe('TerminalManager (real pty, runuser, real user)', () => {
  let user: TestUser;
  const terminals = new TerminalManager();

  beforeAll(() => {
    user = createTestUser('term');
  });
  afterAll(async () => {
    await terminals.closeAll();
    removeAllTestUsers();
  });

  it('opens a login shell as the student: id -un answers their name, exit ends it', async () => {
    const c = collector();
    const { id } = await terminals.open(user.name, c.listener, { cols: 120, rows: 40 });
    terminals.resize(id, { cols: 100, rows: 30 });
    terminals.write(id, 'id -un; echo "home=$HOME"\n');
    // the echo of the command line contains the name too, so look for it alone on a line
    await c.waitFor(new RegExp(`[\\r\\n]${user.name}\\r\\n`));
    await c.waitFor(new RegExp(`home=${user.home}\\r\\n`));
    terminals.write(id, 'exit\n');
    expect(await c.exit).toEqual({ id, exitCode: 0, signal: null });
    expect(() => terminals.write(id, 'x')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('closing a terminal hangs up the shell', async () => {
    const c = collector();
    const { id } = await terminals.open(user.name, c.listener);
    terminals.write(id, 'echo ready-$((40+2))\n');
    await c.waitFor(/ready-42/);
    await terminals.close(id);
    const exit = await c.exit;
    expect(exit.id).toBe(id);
  });

  it('refuses root, system accounts, unknown accounts and invalid names before running anything', async () => {
    const c = collector();
    await expect(terminals.open('root', c.listener)).rejects.toMatchObject({ code: 'BAD_ARGS' });
    await expect(terminals.open('daemon', c.listener)).rejects.toMatchObject({ code: 'NOT_ALLOWED' });
    await expect(terminals.open('nobody', c.listener)).rejects.toMatchObject({ code: 'NOT_ALLOWED' });
    await expect(terminals.open('lhtestnosuchuser', c.listener)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(terminals.open('x; rm -rf /', c.listener)).rejects.toMatchObject({ code: 'BAD_ARGS' });
    await expect(checkStudentAccount(user.name)).resolves.toMatchObject({ name: user.name, uid: user.uid });
  });

  it('uses pkexec when the app is not root', () => {
    expect(new TerminalManager({ root: false }).argv('s01')).toEqual(['pkexec', 'runuser', '-l', 's01']);
    expect(new TerminalManager({ root: true }).argv('s01')).toEqual(['runuser', '-l', 's01']);
  });
});
