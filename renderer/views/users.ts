/**
 * Users: every hub user with their server, activity and home size (GET /hub/api/labhub/users)
 * with how full it is against their disk quota (GET /hub/api/labhub/quota, every 15 s),
 * refreshed every 3 s in place; search, sort, select, and per-row or bulk actions.
 * Render and filter times are recorded as performance measures (`labhub:users-render`: building
 * the rows; `labhub:users-paint`: until they are painted; `labhub:users-refresh`: a later poll
 * applied in place; `labhub:users-filter`) for
 * bench/admin-table.mjs.
 */
import { ApiError, type Api, type QuotaUsage, type UserRow } from '../api.js';
import { h } from '../components/h.js';
import { openMenu } from '../components/menu.js';
import { errorBox, errorText, notify } from '../components/notice.js';
import { poll } from '../components/poller.js';
import { addToGroup, removeUser, resetPassword } from './user-actions.js';
import { UsersTable, type RowAction, type StateFilter } from './users-table.js';
import type { View } from './view.js';

const POLL_MS = 3000;
const QUOTA_MS = 15_000;

async function serverAction(api: Api, name: string, start: boolean): Promise<boolean> {
  try {
    if (start) await api.startServer(name);
    else await api.stopServer(name);
    return true;
  } catch (err) {
    notify(`Could not ${start ? 'start' : 'stop'} ${name}'s server: ${errorText(err)}`, 'error');
    return false;
  }
}

export const usersView: View = {
  id: 'users',
  title: 'Users',
  mount(root, { api, session }) {
    const search = h('input', { type: 'search', id: 'user-search', placeholder: 'Name, full name or class', autocomplete: 'off' });
    const state = h(
      'select',
      { id: 'user-state' },
      h('option', { value: 'all' }, 'Any'),
      h('option', { value: 'running' }, 'Running'),
      h('option', { value: 'pending' }, 'Starting, queued or stopping'),
      h('option', { value: 'stopped' }, 'Stopped'),
    );
    const count = h('span', { class: 'muted', id: 'user-count', 'aria-live': 'polite' });
    const measure = h('button', { type: 'button', class: 'secondary small' }, 'Measure home sizes now');
    const bulkCount = h('span');
    const bulk = h(
      'div',
      { class: 'bulk', hidden: true },
      bulkCount,
      h('button', { type: 'button', class: 'small', dataset: { bulk: 'start' } }, 'Start servers'),
      h('button', { type: 'button', class: 'small secondary', dataset: { bulk: 'stop' } }, 'Stop servers'),
      h('button', { type: 'button', class: 'small secondary', dataset: { bulk: 'group' } }, 'Add to class…'),
      h('button', { type: 'button', class: 'small link', dataset: { bulk: 'clear' } }, 'Clear selection'),
    );
    const status = h('div');
    let poller: { now(): void; stop(): void } | null = null;
    const refresh = () => poller?.now();

    const onAction = async (action: RowAction, u: UserRow, anchor: HTMLElement) => {
      if (action === 'start' || action === 'stop') {
        (anchor as HTMLButtonElement).disabled = true;
        if (await serverAction(api, u.name, action === 'start')) notify(`${action === 'start' ? 'Starting' : 'Stopping'} ${u.name}'s server.`);
        refresh();
        return;
      }
      openMenu(anchor, [
        { label: 'Reset password…', run: () => void resetPassword(api, u.name).then(refresh) },
        {
          label: u.admin ? 'Remove admin rights' : 'Make admin',
          run: async () => {
            if (u.name === session.user && u.admin) return notify('You cannot remove your own admin rights here.', 'error');
            try {
              await api.setAdmin(u.name, !u.admin);
              notify(`${u.name} is ${u.admin ? 'no longer an admin' : 'now an admin'}.`);
            } catch (err) {
              notify(errorText(err), 'error');
            }
            refresh();
          },
        },
        { label: 'Add to class…', run: () => void addToGroup(api, [u.name], refresh) },
        { label: 'Server log', run: () => (location.hash = `#/logs?id=${encodeURIComponent(`users/${u.name}`)}`) },
        { label: 'Remove user…', danger: true, run: () => removeUser(api, u.name, refresh) },
      ]);
    };
    const table = new UsersTable(onAction, () => {
      bulk.hidden = table.selected.size === 0;
      bulkCount.textContent = `${table.selected.size} selected:`;
    });
    const showCount = () => (count.textContent = `Showing ${table.shown} of ${table.size}`);

    const applyFilter = () => {
      const t0 = performance.now();
      table.setFilter(search.value, state.value as StateFilter);
      showCount();
      performance.measure('labhub:users-filter', { start: t0, end: performance.now() });
    };
    search.addEventListener('input', applyFilter);
    state.addEventListener('change', applyFilter);
    measure.addEventListener('click', async () => {
      try {
        await api.refreshUsage();
        notify('Measuring every home folder in the background; sizes update as it goes.');
      } catch (err) {
        notify(errorText(err), 'error');
      }
    });
    bulk.addEventListener('click', async (e) => {
      const kind = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-bulk]')?.dataset.bulk;
      const names = [...table.selected];
      if (kind === 'clear') return table.clearSelection();
      if (kind === 'group') return addToGroup(api, names, refresh);
      if (kind !== 'start' && kind !== 'stop') return;
      let ok = 0;
      for (const n of names) {
        const s = table.user(n)?.server;
        if ((kind === 'start') === (s === 'stopped')) ok += Number(await serverAction(api, n, kind === 'start'));
      }
      notify(`${kind === 'start' ? 'Starting' : 'Stopping'} ${ok} server${ok === 1 ? '' : 's'}.`);
      refresh();
    });

    root.append(
      h('div', { class: 'view-head' }, h('h1', null, 'Users'), count),
      h(
        'div',
        { class: 'toolbar' },
        h('label', { for: search.id }, 'Search'),
        search,
        h('label', { for: state.id }, 'Server'),
        state,
        h('span', { class: 'spacer' }),
        measure,
      ),
      bulk,
      status,
      h('div', { class: 'table-wrap' }, table.element),
    );

    // each user's quota state for the Home column: at most one more call every QUOTA_MS (the hub
    // works out every user's limits for it), none once the hub says it has no quotas (404) or the
    // caller may not see them; in between the last answer is reused
    let quotaWanted = true;
    let quotas: Map<string, QuotaUsage> | undefined;
    let quotasAt = 0;
    const quotaUsage = async (): Promise<Map<string, QuotaUsage> | undefined> => {
      if (!quotaWanted || Date.now() - quotasAt < QUOTA_MS) return quotas;
      quotasAt = Date.now();
      try {
        quotas = new Map((await api.quota()).usage.map((q) => [q.user, q]));
      } catch (err) {
        if (err instanceof ApiError && (err.status === 404 || err.status === 403)) quotaWanted = false;
      }
      return quotas;
    };
    let first = true;
    poller = poll(async () => {
      try {
        const [users, quotas] = await Promise.all([api.users(), quotaUsage()]);
        const t0 = performance.now();
        table.update(users, Date.now(), quotas);
        table.setFilter(search.value, state.value as StateFilter);
        showCount();
        if (first) {
          first = false;
          performance.measure('labhub:users-render', { start: t0, end: performance.now() });
          // the frame after the next one: style, layout and paint of the new rows are done
          requestAnimationFrame(() => setTimeout(() => performance.measure('labhub:users-paint', { start: t0, end: performance.now() })));
          table.element.dataset.ready = 'true';
        } else performance.measure('labhub:users-refresh', { start: t0, end: performance.now() });
        status.replaceChildren();
      } catch (err) {
        status.replaceChildren(errorBox(err));
      }
    }, POLL_MS);
    return () => poller?.stop();
  },
};
