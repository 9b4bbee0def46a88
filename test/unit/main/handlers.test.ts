/** Channel routing over fake parts (the real ones have their own tests); ipcMain is a fake: no Electron binary here. */
import { describe, expect, it, vi } from 'vitest';
import { INVOKE, type HubStatus } from '../../../main/ipc/contract.js';
import { createHandlers, registerHandlers, type HandlerDeps } from '../../../main/ipc/handlers.js';

const status: HubStatus = { state: 'running', mode: 'child', hubUrl: 'http://127.0.0.1:8000', healthy: true, pid: 1, restarts: 0, exits: [], message: null, since: 'now' };

function deps(over: Partial<HandlerDeps> = {}) {
  const sent: Array<[string, unknown]> = [];
  const d: HandlerDeps = {
    supervisor: { status: () => status, restart: vi.fn(async () => undefined), logTail: vi.fn((n?: number) => [`${n} lines`]) },
    installer: {
      run: vi.fn((l) => {
        l.onOutput('run1', 'hello');
        l.onExit({ id: 'run1', exitCode: 0, signal: null, cancelled: false });
        return { id: 'run1' };
      }),
      cancel: vi.fn(async () => undefined),
    },
    terminals: {
      open: vi.fn(async (_u, l) => {
        l.onData('t1', '$ ');
        return { id: 't1' };
      }),
      write: vi.fn(),
      resize: vi.fn(),
      close: vi.fn(async () => undefined),
    },
    send: (e, p) => void sent.push([e, p]),
    openExternal: vi.fn(),
    ...over,
  };
  return { d, sent };
}

describe('IPC handlers', () => {
  it('registers every contract channel with ipcMain, validated, and removes them again', async () => {
    const { d } = deps();
    const registered = new Map<string, (e: unknown, ...a: unknown[]) => Promise<unknown>>();
    const ipc = { handle: vi.fn((c: string, l: (e: unknown, ...a: unknown[]) => Promise<unknown>) => void registered.set(c, l)), removeHandler: vi.fn() };
    const off = registerHandlers(ipc, createHandlers(d), { isTrustedSender: (u) => u.startsWith('file:') });
    expect([...registered.keys()].sort()).toEqual(Object.values(INVOKE).sort());
    const ev = { senderFrame: { url: 'file:///shell.html', parent: null } };
    await expect(registered.get('hub:log-tail')!(ev, 5)).resolves.toEqual({ ok: true, value: ['5 lines'] });
    await expect(registered.get('terminal:open')!(ev, 'root')).resolves.toMatchObject({ ok: false, error: { code: 'BAD_ARGS' } });
    await expect(registered.get('hub:status')!({ senderFrame: { url: 'http://evil/', parent: null } })).resolves.toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    off();
    expect(ipc.removeHandler).toHaveBeenCalledTimes(Object.values(INVOKE).length);
  });

  it('forwards installer and terminal output as events', async () => {
    const { d, sent } = deps();
    const h = createHandlers(d);
    expect(await h['installer:run']()).toEqual({ id: 'run1' });
    expect(await h['terminal:open']('s01', { cols: 80, rows: 24 })).toEqual({ id: 't1' });
    expect(sent).toEqual([
      ['installer:output', { id: 'run1', data: 'hello' }],
      ['installer:exit', { id: 'run1', exitCode: 0, signal: null, cancelled: false }],
      ['terminal:data', { id: 't1', data: '$ ' }],
    ]);
    await h['terminal:input']('t1', 'ls\n');
    expect(d.terminals.write).toHaveBeenCalledWith('t1', 'ls\n');
  });

  it('opens only the hub URL in the browser, and says so when it is not known', async () => {
    const { d } = deps();
    await createHandlers(d)['app:open-external']();
    expect(d.openExternal).toHaveBeenCalledWith('http://127.0.0.1:8000');
    const none = deps({ supervisor: { status: () => ({ ...status, hubUrl: null }), restart: vi.fn(), logTail: vi.fn() } });
    expect(() => createHandlers(none.d)['app:open-external']()).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('hub:restart answers with the status after restarting', async () => {
    const { d } = deps();
    await expect(createHandlers(d)['hub:restart']()).resolves.toBe(status);
    expect(d.supervisor.restart).toHaveBeenCalled();
  });
});
