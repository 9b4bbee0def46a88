/**
 * The tray icon: the hub's state at a glance and the few actions an instructor needs without the
 * window. Thin: the menu comes from `trayMenuModel` (tray-model.ts, unit-tested).
 */
import { Menu, Tray } from 'electron';
import type { HubSummary } from './hub-client.js';
import type { HubStatus } from './ipc/contract.js';
import { trayMenuModel, type TrayAction } from './tray-model.js';

/** The Electron tray (not run in tests: no Electron binary here). */
export function createTray(icon: string, actions: Record<TrayAction, () => void>): { update(status: HubStatus, summary: HubSummary | null): void; destroy(): void } {
  const tray = new Tray(icon);
  tray.on('click', () => actions['open-window']());
  return {
    update(status, summary) {
      const model = trayMenuModel(status, summary);
      tray.setToolTip(model.tooltip);
      tray.setContextMenu(
        Menu.buildFromTemplate(
          model.items.map((i) =>
            i.kind === 'separator' ? { type: 'separator' as const } : { label: i.label, enabled: i.enabled, click: i.action ? actions[i.action] : undefined },
          ),
        ),
      );
    },
    destroy: () => tray.destroy(),
  };
}
