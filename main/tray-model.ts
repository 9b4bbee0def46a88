/**
 * The tray menu as a pure model of the hub's status, kept apart from tray.ts so it is tested
 * under Node (importing Electron's module there fails: there is no Electron binary).
 */
import type { HubSummary } from './hub-client.js';
import type { HubStatus } from './ipc/contract.js';

export type TrayAction = 'open-window' | 'open-browser' | 'restart-hub' | 'quit';

export type TrayItem = { kind: 'separator' } | { kind: 'item'; label: string; enabled: boolean; action?: TrayAction };

export interface TrayModel {
  tooltip: string;
  items: TrayItem[];
}

/** One line saying what the hub is doing. */
export function statusLabel(s: Pick<HubStatus, 'state' | 'mode' | 'healthy'>): string {
  switch (s.state) {
    case 'running':
      return s.healthy ? 'LabHub is running' : 'LabHub is not answering';
    case 'external':
      if (!s.healthy) return s.mode === 'systemd' ? 'LabHub service is not answering' : 'LabHub is not answering';
      return s.mode === 'systemd' ? 'LabHub service is running' : 'LabHub is running (started outside the app)';
    case 'starting':
      return 'LabHub is starting…';
    case 'restarting':
      return 'LabHub is restarting…';
    case 'crash-loop':
      return 'LabHub keeps stopping: see the window';
    case 'stopped':
      return 'LabHub is stopped';
  }
}

/** "12 of 31 students online · 10 servers running, 3 queued" */
export function summaryLabel(s: HubSummary): string {
  const servers = `${s.servers.running} server${s.servers.running === 1 ? '' : 's'} running`;
  const waiting = s.servers.starting + s.servers.queued;
  return `${s.users.online} of ${s.users.total} students online · ${servers}${waiting ? `, ${waiting} starting` : ''}`;
}

/** The tray's tooltip and menu for a status and (when the hub answered) its figures. */
export function trayMenuModel(status: HubStatus, summary: HubSummary | null): TrayModel {
  const label = statusLabel(status);
  const up = status.healthy && status.hubUrl !== null;
  const canRestart = status.mode === 'child' || status.mode === 'systemd' || status.mode === 'none';
  const items: TrayItem[] = [{ kind: 'item', label, enabled: false }];
  if (summary && up) items.push({ kind: 'item', label: summaryLabel(summary), enabled: false });
  items.push(
    { kind: 'separator' },
    { kind: 'item', label: 'Open LabHub', enabled: true, action: 'open-window' },
    { kind: 'item', label: 'Open in browser', enabled: up, action: 'open-browser' },
    {
      kind: 'item',
      label: status.state === 'crash-loop' || status.state === 'stopped' ? 'Start hub' : 'Restart hub',
      enabled: canRestart && status.state !== 'starting' && status.state !== 'restarting',
      action: 'restart-hub',
    },
    { kind: 'separator' },
    { kind: 'item', label: 'Quit LabHub', enabled: true, action: 'quit' },
  );
  return { tooltip: up ? `${label} at ${status.hubUrl}` : label, items };
}

