/**
 * Backups (GET /hub/api/labhub/backup): the repository and its state, the next runs, the running
 * run, the history, run now (everyone or the selected users) and check now, each user's last
 * success and stale flag with their snapshots to browse and restore, and the schedule and
 * retention settings. Refreshed every 5 s while shown; the form is built once, so editing is
 * never interrupted.
 */
import type { Api, BackupStatus } from '../api.js';
import { dateTime, relativeTime } from '../components/format.js';
import { h, replaceChildren } from '../components/h.js';
import { errorBox, errorText, notify } from '../components/notice.js';
import { poll } from '../components/poller.js';
import { openSnapshotBrowser } from './backup-browser.js';
import { runPill, runsTable } from './backup-runs.js';
import { backupSettingsForm } from './backup-settings.js';
import type { View } from './view.js';

const POLL_MS = 5000;

function facts(s: BackupStatus): HTMLElement {
  const row = (label: string, value: Node | string) => [h('dt', null, label), h('dd', null, value)];
  return h(
    'section',
    { class: 'card', id: 'backup-facts' },
    h('h2', null, 'Repository'),
    s.repositoryError ? h('div', { class: 'error', role: 'alert', id: 'repository-error' }, s.repositoryError) : null,
    h(
      'dl',
      { class: 'facts' },
      row('Location', h('code', { id: 'backup-repository' }, s.repository)),
      row('Scheduled backups', s.enabled ? h('span', { class: 'pill ok' }, 'on') : h('span', { class: 'pill bad' }, 'off')),
      row('Next backup', s.enabled && s.nextRun ? `${dateTime(s.nextRun)} (${s.schedule})` : '—'),
      row('Next check', s.enabled && s.nextCheck ? `${dateTime(s.nextCheck)} (${s.checkSchedule})` : '—'),
      row(
        'Now',
        s.running
          ? h('span', { id: 'backup-running' }, runPill('running'), ` ${s.running.kind} started ${relativeTime(s.running.started)} by ${s.running.by}${s.running.users.length ? ` (${s.running.users.length} users)` : ''}`)
          : 'idle',
      ),
    ),
  );
}

function usersCard(api: Api, s: BackupStatus, selected: Set<string>, onSelect: () => void): HTMLElement {
  const stale = new Set(s.stale);
  const rows = [...s.users]
    .sort((a, b) => a.user.localeCompare(b.user))
    .map((u) => {
      const box = h('input', { type: 'checkbox', checked: selected.has(u.user), 'aria-label': `Select ${u.user}` });
      box.addEventListener('change', () => {
        if (box.checked) selected.add(u.user);
        else selected.delete(u.user);
        onSelect();
      });
      const browse = h('button', { type: 'button', class: 'small secondary' }, 'Snapshots…');
      browse.addEventListener('click', () => openSnapshotBrowser(api, u.user));
      return h(
        'tr',
        { dataset: { user: u.user, stale: String(stale.has(u.user)) } },
        h('td', null, box),
        h('th', { scope: 'row' }, u.user),
        h('td', { title: u.lastSuccess ? dateTime(u.lastSuccess) : '' }, relativeTime(u.lastSuccess)),
        h('td', null, stale.has(u.user) ? h('span', { class: 'pill bad' }, `no backup for ${s.staleDays}+ days`) : h('span', { class: 'pill ok' }, 'ok')),
        h('td', { class: 'wrap' }, u.lastError ?? ''),
        h('td', null, browse),
      );
    });
  return h(
    'section',
    { class: 'card', id: 'backup-users' },
    h('h2', null, 'Users'),
    rows.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'table compact' },
            h('thead', null, h('tr', null, ['', 'User', 'Last success', 'State', 'Last error', ''].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', null, rows),
          ),
        )
      : h('p', { class: 'muted' }, 'No hub users yet.'),
  );
}

export const backupsView: View = {
  id: 'backups',
  title: 'Backups',
  mount(root, { api }) {
    const runAll = h('button', { type: 'button', id: 'backup-run-all' }, 'Back up everyone now');
    const runSelected = h('button', { type: 'button', id: 'backup-run-selected', class: 'secondary', disabled: true }, 'Back up selected');
    const check = h('button', { type: 'button', id: 'backup-check', class: 'secondary' }, 'Check repository now');
    const top = h('div', { id: 'backup-top' }, h('p', { class: 'muted' }, 'Loading…'));
    const runsBox = h('section', { class: 'card', id: 'backup-history' });
    const usersBox = h('div');
    const settingsBox = h('div');
    const updated = h('span', { class: 'muted small' });
    const selected = new Set<string>();
    const expanded = new Set<string>();
    let last: BackupStatus | null = null;
    let lastJson = '';

    /** Rebuilds the status parts; a poll that brought nothing new changes nothing (focus stays). */
    const render = (s: BackupStatus, force = true) => {
      const json = JSON.stringify(s);
      if (!force && json === lastJson) return;
      last = s;
      lastJson = json;
      for (const u of [...selected]) if (!s.users.some((x) => x.user === u)) selected.delete(u);
      const busy = !!s.running;
      runAll.disabled = busy;
      check.disabled = busy;
      runSelected.disabled = busy || !selected.size;
      runSelected.textContent = selected.size ? `Back up ${selected.size} selected` : 'Back up selected';
      replaceChildren(top, facts(s));
      replaceChildren(runsBox, h('h2', null, 'Recent runs'), runsTable(s.running ? [s.running, ...s.lastRuns.filter((r) => r.id !== s.running!.id)] : s.lastRuns, expanded, () => last && render(last)));
      replaceChildren(usersBox, usersCard(api, s, selected, () => last && render(last)));
      if (!settingsBox.firstChild) settingsBox.append(backupSettingsForm(api, s, (next) => render(next)));
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    };
    const poller = poll(async () => {
      try {
        render(await api.backupStatus(), false);
      } catch (err) {
        replaceChildren(top, errorBox(err));
      }
    }, POLL_MS);

    const start = async (what: () => Promise<unknown>, done: string) => {
      runAll.disabled = runSelected.disabled = check.disabled = true;
      try {
        await what();
        notify(done);
      } catch (err) {
        notify(errorText(err), 'error');
      }
      poller.now();
    };
    runAll.addEventListener('click', () => void start(() => api.runBackup(), 'Backup of every user started.'));
    runSelected.addEventListener('click', () => {
      const users = [...selected].sort();
      void start(() => api.runBackup(users), `Backup of ${users.join(', ')} started.`);
    });
    check.addEventListener('click', () => void start(() => api.checkBackups(), 'Repository check started.'));

    root.append(
      h('div', { class: 'view-head' }, h('h1', null, 'Backups'), updated),
      h('div', { class: 'buttons' }, runAll, runSelected, check),
      top,
      runsBox,
      usersBox,
      settingsBox,
    );
    return () => poller.stop();
  },
};
