/**
 * The views, in navigation order. A later view (quotas, backups) is one more entry here; the
 * navigation is built from this list, so there are no placeholder links.
 */
import { backupsView } from './backups.js';
import { dashboardView } from './dashboard.js';
import { groupsView } from './groups.js';
import { importView } from './import.js';
import { logsView } from './logs.js';
import { machineView } from './machine.js';
import { quotasView } from './quotas.js';
import { settingsView } from './settings.js';
import { usersView } from './users.js';
import type { View } from './view.js';

export const VIEWS: readonly View[] = [dashboardView, usersView, importView, groupsView, quotasView, backupsView, logsView, settingsView, machineView];
