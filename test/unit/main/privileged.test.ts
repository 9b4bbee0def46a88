/** Real commands, run as root directly (tests run as root); pkexec itself needs a polkit agent and is only checked as argv. */
import { describe, expect, it } from 'vitest';
import { isRoot, PrivilegedError, privilegedArgv, runPrivileged } from '../../../main/privileged.js';

describe('privileged', () => {
  it('prefixes pkexec only when not root, and refuses an empty command', () => {
    expect(privilegedArgv(['systemctl', 'restart', 'labhub.service'], true)).toEqual(['systemctl', 'restart', 'labhub.service']);
    expect(privilegedArgv(['systemctl', 'restart', 'labhub.service'], false)).toEqual(['pkexec', 'systemctl', 'restart', 'labhub.service']);
    expect(() => privilegedArgv([], true)).toThrow();
    expect(isRoot()).toBe(true); // this test machine
  });

  it('resolves with the output, and feeds input on stdin rather than argv', async () => {
    await expect(runPrivileged(['sh', '-c', 'read pw; echo "got $pw"; id -u'], { input: 'secret\n' })).resolves.toEqual({ stdout: 'got secret\n0\n', stderr: '' });
  });

  it('rejects with command, exit code, stdout and stderr', async () => {
    const err = (await runPrivileged(['sh', '-c', 'echo partial; echo "disk full" >&2; exit 4']).catch((e: unknown) => e)) as PrivilegedError;
    expect(err).toBeInstanceOf(PrivilegedError);
    expect(err).toMatchObject({ command: ['sh', '-c', 'echo partial; echo "disk full" >&2; exit 4'], exitCode: 4, signal: null, stdout: 'partial\n', stderr: 'disk full\n' });
    expect(err.message).toMatch(/exited with code 4: disk full$/);
  });

  it('reports a missing program and a timeout', async () => {
    const missing = (await runPrivileged(['/nonexistent/tool']).catch((e: unknown) => e)) as PrivilegedError;
    expect(missing).toBeInstanceOf(PrivilegedError);
    expect(missing.message).toMatch(/could not run \/nonexistent\/tool: .*ENOENT/);
    const slow = (await runPrivileged(['sleep', '10'], { timeoutMs: 100 }).catch((e: unknown) => e)) as PrivilegedError;
    expect(slow).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  it('explains pkexec refusals (exit codes as pkexec gives them)', () => {
    expect(new PrivilegedError(['systemctl', 'restart', 'labhub.service'], 127, null, '', '', true).message).toBe(
      'systemctl restart labhub.service: not authorised (polkit refused, or no polkit agent is running)',
    );
    expect(new PrivilegedError(['x'], 126, null, '', '', false).message).toBe('x exited with code 126');
  });
});
