/** The preload's bridge over a fake ipcRenderer (the Electron binary cannot run here). */
import { describe, expect, it, vi } from 'vitest';
import { createBridge, type IpcRendererLike } from '../../../main/ipc/bridge.js';

function fakeIpc() {
  const listeners = new Map<string, Set<(e: unknown, ...a: unknown[]) => void>>();
  const ipc = {
    invoke: vi.fn(async (channel: string, ...args: unknown[]) => ({ ok: true, value: { channel, args } })),
    on: vi.fn((c: string, l: (e: unknown, ...a: unknown[]) => void) => {
      if (!listeners.has(c)) listeners.set(c, new Set());
      listeners.get(c)!.add(l);
    }),
    removeListener: vi.fn((c: string, l: (e: unknown, ...a: unknown[]) => void) => listeners.get(c)?.delete(l)),
    emit: (c: string, payload: unknown) => {
      for (const l of listeners.get(c) ?? []) l({ sender: 'the IpcRendererEvent', senderId: 0 }, payload);
    },
    count: (c: string) => listeners.get(c)?.size ?? 0,
  };
  return ipc;
}

describe('createBridge', () => {
  it('exposes exactly invoke and on, frozen, and not ipcRenderer', () => {
    const ipc = fakeIpc();
    const bridge = createBridge(ipc as IpcRendererLike);
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'on']);
    expect(Object.isFrozen(bridge)).toBe(true);
    expect(Object.values(bridge)).not.toContain(ipc);
    expect(Object.values(bridge).every((v) => typeof v === 'function')).toBe(true);
  });

  it('passes contract channels and their arguments through', async () => {
    const ipc = fakeIpc();
    const bridge = createBridge(ipc as IpcRendererLike);
    await expect(bridge.invoke('terminal:open', 's01', { cols: 80, rows: 24 })).resolves.toEqual({
      ok: true,
      value: { channel: 'terminal:open', args: ['s01', { cols: 80, rows: 24 }] },
    });
    await bridge.invoke('hub:status');
    expect(ipc.invoke).toHaveBeenCalledTimes(2);
  });

  it('rejects any other channel without sending it', async () => {
    const ipc = fakeIpc();
    const bridge = createBridge(ipc as IpcRendererLike) as unknown as { invoke(c: string): Promise<unknown>; on(c: string, l: unknown): unknown };
    for (const c of ['hub:status-changed', 'users:delete', 'ELECTRON_BROWSER_REQUIRE', '', 'constructor', '__proto__']) {
      await expect(bridge.invoke(c)).rejects.toThrow(/unknown channel/);
    }
    expect(ipc.invoke).not.toHaveBeenCalled();
    expect(() => bridge.on('hub:status', () => undefined)).toThrow(/unknown event/);
    expect(() => bridge.on('hub:status-changed', 'not a function')).toThrow(/function/);
    expect(ipc.on).not.toHaveBeenCalled();
  });

  it('gives listeners the payload only and unsubscribes', () => {
    const ipc = fakeIpc();
    const bridge = createBridge(ipc as IpcRendererLike);
    const got: unknown[][] = [];
    const off = bridge.on('terminal:data', (...args) => got.push(args));
    ipc.emit('terminal:data', { id: 't1', data: 'hello' });
    expect(got).toEqual([[{ id: 't1', data: 'hello' }]]);
    off();
    expect(ipc.count('terminal:data')).toBe(0);
    ipc.emit('terminal:data', { id: 't1', data: 'again' });
    expect(got).toHaveLength(1);
  });
});
