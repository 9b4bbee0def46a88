import { describe, expect, it } from 'vitest';
import type { HubStatus } from '../../../main/ipc/contract.js';
import { statusLabel, trayMenuModel, type TrayItem } from '../../../main/tray-model.js';

const base: HubStatus = {
  state: 'running',
  mode: 'child',
  hubUrl: 'http://127.0.0.1:8000',
  healthy: true,
  pid: 42,
  restarts: 0,
  exits: [],
  message: null,
  since: '2026-11-22T08:00:00.000Z',
};
const summary = { version: '0.1.0', users: { total: 31, online: 12 }, servers: { running: 10, starting: 1, queued: 2 } };
const item = (items: TrayItem[], action: string) => items.find((i) => i.kind === 'item' && i.action === action) as Extract<TrayItem, { kind: 'item' }>;

describe('trayMenuModel', () => {
  it('running: status, figures, all actions', () => {
    const m = trayMenuModel(base, summary);
    expect(m.tooltip).toBe('LabHub is running at http://127.0.0.1:8000');
    expect(m.items).toEqual([
      { kind: 'item', label: 'LabHub is running', enabled: false },
      { kind: 'item', label: '12 of 31 students online · 10 servers running, 3 starting', enabled: false },
      { kind: 'separator' },
      { kind: 'item', label: 'Open LabHub', enabled: true, action: 'open-window' },
      { kind: 'item', label: 'Open in browser', enabled: true, action: 'open-browser' },
      { kind: 'item', label: 'Restart hub', enabled: true, action: 'restart-hub' },
      { kind: 'separator' },
      { kind: 'item', label: 'Quit LabHub', enabled: true, action: 'quit' },
    ]);
  });

  it('crash loop: no browser, a start button, no figures', () => {
    const m = trayMenuModel({ ...base, state: 'crash-loop', healthy: false, pid: null }, summary);
    expect(m.items[0]).toEqual({ kind: 'item', label: 'LabHub keeps stopping: see the window', enabled: false });
    expect(m.items.some((i) => i.kind === 'item' && i.label.includes('students online'))).toBe(false);
    expect(item(m.items, 'open-browser').enabled).toBe(false);
    expect(item(m.items, 'restart-hub')).toMatchObject({ label: 'Start hub', enabled: true });
    expect(m.tooltip).toBe('LabHub keeps stopping: see the window');
  });

  it('starting and restarting: restart disabled', () => {
    for (const state of ['starting', 'restarting'] as const) {
      expect(item(trayMenuModel({ ...base, state, healthy: false }, null).items, 'restart-hub').enabled).toBe(false);
    }
  });

  it("systemd can be restarted; someone else's hub cannot", () => {
    expect(item(trayMenuModel({ ...base, state: 'external', mode: 'systemd' }, null).items, 'restart-hub').enabled).toBe(true);
    expect(item(trayMenuModel({ ...base, state: 'external', mode: 'external' }, null).items, 'restart-hub').enabled).toBe(false);
    expect(statusLabel({ state: 'external', mode: 'systemd', healthy: true })).toBe('LabHub service is running');
    expect(statusLabel({ state: 'external', mode: 'systemd', healthy: false })).toBe('LabHub service is not answering');
    expect(statusLabel({ state: 'running', mode: 'child', healthy: false })).toBe('LabHub is not answering');
  });

  it('says "1 server", and leaves out "starting" when none are', () => {
    const m = trayMenuModel(base, { ...summary, servers: { running: 1, starting: 0, queued: 0 } });
    expect(m.items[1]).toEqual({ kind: 'item', label: '12 of 31 students online · 1 server running', enabled: false });
  });
});
