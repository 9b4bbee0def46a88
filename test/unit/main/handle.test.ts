import { describe, expect, it, vi } from 'vitest';
import { ContractError } from '../../../main/ipc/contract.js';
import { handle } from '../../../main/ipc/handle.js';
import { PrivilegedError } from '../../../main/privileged.js';

const top = (url: string) => ({ senderFrame: { url, parent: null } });

describe('handle() envelope', () => {
  it('validates the arguments and wraps the value', async () => {
    const impl = vi.fn(async (user: string) => ({ id: `t-${user}` }));
    const h = handle('terminal:open', impl);
    await expect(h(top('file:///app/shell.html'), 's01')).resolves.toEqual({ ok: true, value: { id: 't-s01' } });
    expect(impl).toHaveBeenCalledWith('s01');
  });

  it('answers BAD_ARGS without calling the implementation', async () => {
    const impl = vi.fn();
    const h = handle('terminal:open', impl);
    await expect(h(top('x'), 'root')).resolves.toEqual({ ok: false, error: { code: 'BAD_ARGS', message: 'a terminal as root is not offered' } });
    await expect(h(top('x'))).resolves.toMatchObject({ ok: false, error: { code: 'BAD_ARGS' } });
    expect(impl).not.toHaveBeenCalled();
  });

  it('refuses untrusted senders and subframes', async () => {
    const impl = vi.fn(() => undefined);
    const h = handle('terminal:close', impl, { isTrustedSender: (url) => url === 'http://127.0.0.1:8000/hub/admin' });
    await expect(h(top('http://127.0.0.1:8000/user/s01/lab'), 'id1')).resolves.toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    await expect(h({ senderFrame: { url: 'http://127.0.0.1:8000/hub/admin', parent: {} } }, 'id1')).resolves.toMatchObject({
      ok: false,
      error: { code: 'NOT_ALLOWED' },
    });
    await expect(h({ senderFrame: null }, 'id1')).resolves.toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    expect(impl).not.toHaveBeenCalled();
    await expect(h(top('http://127.0.0.1:8000/hub/admin'), 'id1')).resolves.toEqual({ ok: true, value: undefined });
  });

  it('keeps ContractError and PrivilegedError messages, hides unexpected errors', async () => {
    const onUnexpectedError = vi.fn();
    const opts = { onUnexpectedError };
    const busy = handle('installer:run', () => {
      throw new ContractError('BUSY', 'the installer is already running');
    }, opts);
    await expect(busy(top('x'))).resolves.toEqual({ ok: false, error: { code: 'BUSY', message: 'the installer is already running' } });
    const priv = handle('hub:restart', async () => {
      throw new PrivilegedError(['systemctl', 'restart', 'labhub.service'], 126, null, '', '', true);
    }, opts);
    await expect(priv(top('x'))).resolves.toEqual({
      ok: false,
      error: { code: 'PRIVILEGED_FAILED', message: 'systemctl restart labhub.service: the administrator password dialog was dismissed' },
    });
    expect(onUnexpectedError).not.toHaveBeenCalled();
    const boom = handle('hub:status', () => {
      throw new Error('secret internal detail /var/lib/labhub/state.json');
    }, opts);
    const r = await boom(top('x'));
    expect(r).toEqual({ ok: false, error: { code: 'INTERNAL', message: "hub:status failed unexpectedly; see the app's log" } });
    expect(onUnexpectedError).toHaveBeenCalledWith('hub:status', expect.any(Error));
  });
});
