/**
 * Quotas (GET /hub/api/labhub/quota): which disk and memory/CPU mode is in force and why, the
 * defaults, the group and user overrides (add, edit, remove) and every user's home usage against
 * their limits, fullest first, over-soft in amber and over-hard in red, with a "Scan now".
 * Refreshed every 10 s while shown; the forms are built once, so editing is never interrupted.
 */
import type { Api, QuotaOverride, QuotaStatus, QuotaUsage } from '../api.js';
import { confirmDialog } from '../components/dialog.js';
import { bytes, dateTime, relativeTime } from '../components/format.js';
import { h, replaceChildren } from '../components/h.js';
import { errorBox, errorText, notify } from '../components/notice.js';
import { poll } from '../components/poller.js';
import { kernelProblems, QUOTA_KEYS, QUOTA_LABELS, quotaDefaultsForm, quotaOverrideForm, type OverrideForm } from './quotas-forms.js';
import { formatSize, limitText } from './quotas-size.js';
import type { View } from './view.js';

const POLL_MS = 10_000;

const STATE_TEXT: Record<QuotaUsage['state'], string> = { ok: 'ok', 'over-soft': 'over soft limit', 'over-hard': 'over hard limit', 'no-limit': 'no limit' };

/** The disk mode in words: "Enforced by kernel quotas: ext4 on /dev/sda2 (/home)", "Monitored", … */
function diskMode(d: QuotaStatus['disk']): { pill: string; kind: string; text: string } {
  switch (d.inForce) {
    case 'enforced':
      return { pill: 'enforced', kind: 'ok', text: `Enforced by kernel quotas${d.filesystem ? `: ${d.filesystem}` : ''}.` };
    case 'monitored':
      return { pill: 'monitored', kind: 'warn', text: 'Monitored: homes are measured on a schedule; over the hard limit a server does not start.' };
    default:
      return { pill: 'off', kind: 'bad', text: 'Off: disk limits are not checked.' };
  }
}

function memoryMode(m: QuotaStatus['memory']): { pill: string; kind: string; text: string } {
  if (m.inForce === 'not enforced') return { pill: 'not enforced', kind: 'bad', text: 'Not enforced: servers may use all memory and CPU.' };
  const how = m.inForce === 'systemd' ? 'a systemd scope per server' : m.inForce === 'cgroup-v1' ? 'a cgroup (v1) per server' : m.inForce === 'docker' ? 'Docker container limits' : 'a cgroup (v2) per server';
  return { pill: m.inForce, kind: 'ok', text: `Enforced with ${how}.` };
}

function modesCard(s: QuotaStatus): HTMLElement {
  const card = (id: string, title: string, mode: { pill: string; kind: string; text: string }, reason: string, extra?: string) =>
    h(
      'section',
      { class: `card mode-card mode-${mode.kind}`, id, dataset: { mode: mode.pill } },
      h('h2', null, title, ' ', h('span', { class: `pill ${mode.kind}` }, mode.pill)),
      h('p', { class: 'mode-text' }, mode.text),
      reason ? h('p', { class: 'muted small mode-reason' }, `Why: ${reason}`) : null,
      extra ? h('p', { class: 'muted small' }, extra) : null,
    );
  return h(
    'div',
    { class: 'mode-cards' },
    card('quota-disk-mode', 'Disk', diskMode(s.disk), s.disk.reason, s.disk.configured !== s.disk.inForce ? `Configured: ${s.disk.configured}.` : undefined),
    card('quota-memory-mode', 'Memory and CPU', memoryMode(s.memory), s.memory.reason),
  );
}

/** Where a limit came from, for the usage table's titles. */
function source(src: string | undefined): string {
  if (!src || src === 'default') return 'default';
  if (src === 'user') return "user's own override";
  return src.startsWith('group:') ? `group ${src.slice(6)}` : src;
}

function usageBar(u: QuotaUsage): HTMLElement {
  const { diskSoft: soft, diskHard: hard } = u.limits;
  const full = hard || soft;
  const p = u.percent ?? (u.bytes !== null && full ? (100 * u.bytes) / full : null);
  const width = p === null ? 0 : Math.min(100, Math.max(0, full && u.bytes !== null ? (100 * u.bytes) / full : p));
  const fill = h('div', { class: `bar-fill${u.state === 'over-hard' ? ' high' : u.state === 'over-soft' ? ' mid' : ''}` });
  fill.style.width = `${width}%`;
  const bar = h(
    'div',
    {
      class: 'bar quota-bar',
      role: 'meter',
      'aria-label': `${u.user}'s disk usage`,
      'aria-valuemin': 0,
      'aria-valuemax': 100,
      'aria-valuenow': p === null ? undefined : Math.round(Math.min(100, p)),
      'aria-valuetext': p === null ? 'no limit' : `${Math.round(p)} percent of ${hard ? 'the hard' : 'the soft'} limit`,
    },
    fill,
  );
  if (soft && hard && soft < hard) {
    // the soft limit as a tick on a bar that runs to the hard limit
    const tick = h('div', { class: 'soft-tick', title: `soft limit ${formatSize(soft)}` });
    tick.style.left = `${(100 * soft) / hard}%`;
    bar.appendChild(tick);
  }
  return bar;
}

function usageTable(s: QuotaStatus, now: number): HTMLElement {
  if (!s.usage.length) return h('p', { class: 'muted' }, 'No hub users yet.');
  const rows = s.usage.map((u) =>
    h(
      'tr',
      { class: `quota-${u.state}`, dataset: { user: u.user, state: u.state } },
      h('th', { scope: 'row' }, u.user),
      h('td', { class: 'bar-cell' }, usageBar(u)),
      h('td', { class: 'num' }, u.percent === null ? '—' : `${Math.round(u.percent)} %`),
      h('td', { class: 'num', title: u.bytes === null ? 'not measured yet' : `${u.bytes} bytes` }, u.bytes === null ? '—' : formatSize(u.bytes)),
      h('td', { class: 'num', title: `from ${source(u.sources.diskSoft)}` }, limitText('diskSoft', u.limits.diskSoft)),
      h('td', { class: 'num', title: `from ${source(u.sources.diskHard)}` }, limitText('diskHard', u.limits.diskHard)),
      h('td', { class: 'num', title: `from ${source(u.sources.memory)}` }, limitText('memory', u.limits.memory)),
      h('td', { class: 'num', title: `from ${source(u.sources.cpus)}` }, limitText('cpus', u.limits.cpus)),
      h('td', null, h('span', { class: `pill quota-state-${u.state}` }, STATE_TEXT[u.state] ?? u.state)),
      h('td', { title: u.measuredAt ? dateTime(u.measuredAt) : '' }, u.measuredAt ? `measured ${relativeTime(u.measuredAt, now)}` : 'not measured yet'),
    ),
  );
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table compact', id: 'quota-usage-table' },
      h('thead', null, h('tr', null, ['User', 'Home', 'Full', 'Used', 'Soft', 'Hard', 'Memory', 'CPUs', 'State', 'Measured'].map((t, i) => h('th', { scope: 'col', class: i >= 2 && i <= 7 ? 'num' : undefined }, t)))),
      h('tbody', null, rows),
    ),
  );
}

function overridesTable(api: Api, kind: 'groups' | 'users', entries: Record<string, QuotaOverride>, form: OverrideForm, onChange: () => void): HTMLElement {
  const names = Object.keys(entries).sort();
  const what = kind === 'groups' ? 'group' : 'user';
  if (!names.length) return h('p', { class: 'muted', id: `quota-${kind}-empty` }, `No ${what} overrides: every ${what === 'group' ? 'group member' : 'user'} gets the defaults.`);
  const rows = names.map((n) => {
    const o = entries[n]!;
    const edit = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Edit ${n}'s limits` }, 'Edit');
    const remove = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Remove ${n}'s override` }, 'Remove');
    edit.addEventListener('click', () => form.edit(n, o));
    remove.addEventListener('click', async () => {
      if (!(await confirmDialog(`Remove ${n}'s limits?`, `${kind === 'groups' ? `Members of ${n}` : n} will get the ${kind === 'groups' ? 'defaults (or another group’s limits)' : 'group or default limits'} again.`, 'Remove', 'danger'))) return;
      try {
        kernelProblems(await api.removeQuotaOverride(kind, n));
        notify(`Removed ${n}'s override.`);
      } catch (err) {
        notify(errorText(err), 'error');
      }
      onChange();
    });
    return h(
      'tr',
      { dataset: { name: n } },
      h('th', { scope: 'row' }, n),
      QUOTA_KEYS.map((k) => h('td', { class: 'num', dataset: { key: k } }, o[k] === undefined ? '—' : limitText(k, o[k]))),
      h('td', { class: 'actions' }, edit, remove),
    );
  });
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table compact', id: `quota-${kind}-table` },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, what === 'group' ? 'Group' : 'User'), QUOTA_KEYS.map((k) => h('th', { scope: 'col', class: 'num' }, QUOTA_LABELS[k])), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', null, rows),
    ),
  );
}

function overCounts(s: QuotaStatus): string {
  const hard = s.usage.filter((u) => u.state === 'over-hard').map((u) => u.user);
  const soft = s.usage.filter((u) => u.state === 'over-soft').map((u) => u.user);
  const list = (names: string[]) => (names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', '));
  const parts = [hard.length ? `${hard.length} over the hard limit (${list(hard)})` : '', soft.length ? `${soft.length} over the soft limit (${list(soft)})` : ''].filter(Boolean);
  return parts.length ? `${parts.join('; ')}.` : 'Nobody is over a limit.';
}

export const quotasView: View = {
  id: 'quotas',
  title: 'Quotas',
  mount(root, { api }) {
    const updated = h('span', { class: 'muted small' });
    const modes = h('div', { id: 'quota-modes' }, h('p', { class: 'muted' }, 'Loading…'));
    const defaultsBox = h('div');
    const groupsBox = h('div', { id: 'quota-groups-list' });
    const usersBox = h('div', { id: 'quota-users-list' });
    const usageBox = h('div', { id: 'quota-usage-list' });
    const summary = h('p', { id: 'quota-summary', 'aria-live': 'polite' });
    const scan = h('button', { type: 'button', id: 'quota-scan', class: 'secondary small' }, 'Scan now');
    const userNames = h('datalist', { id: 'quota-user-names' });
    let poller: { now(): void; stop(): void } | null = null;
    const refresh = () => poller?.now();
    const groupForm = quotaOverrideForm(api, 'groups', refresh);
    const userForm = quotaOverrideForm(api, 'users', refresh);
    let lastJson = '';

    const render = (s: QuotaStatus) => {
      const json = JSON.stringify(s);
      const now = Date.now();
      updated.textContent = `Updated ${new Date(now).toLocaleTimeString()}`;
      if (json === lastJson) {
        // only the "measured … ago" texts move on
        replaceChildren(usageBox, usageTable(s, now));
        return;
      }
      lastJson = json;
      replaceChildren(modes, modesCard(s));
      if (!defaultsBox.firstChild) defaultsBox.append(quotaDefaultsForm(api, s, refresh));
      replaceChildren(groupsBox, overridesTable(api, 'groups', s.groups, groupForm, refresh));
      replaceChildren(usersBox, overridesTable(api, 'users', s.users, userForm, refresh));
      replaceChildren(usageBox, usageTable(s, now));
      summary.className = s.usage.some((u) => u.state === 'over-hard') ? 'quota-summary bad' : s.usage.some((u) => u.state === 'over-soft') ? 'quota-summary warn' : 'quota-summary';
      summary.textContent = overCounts(s);
      replaceChildren(userNames, s.usage.map((u) => h('option', { value: u.user })));
      root.dataset.ready = 'true';
    };
    poller = poll(async () => {
      try {
        render(await api.quota());
      } catch (err) {
        replaceChildren(modes, errorBox(err));
      }
    }, POLL_MS);
    scan.addEventListener('click', async () => {
      scan.disabled = true;
      try {
        await api.scanQuota();
        notify('Measuring every home in the background; the table updates as it goes.');
        setTimeout(refresh, 2000);
      } catch (err) {
        notify(errorText(err), 'error');
      } finally {
        scan.disabled = false;
      }
    });

    root.append(
      h('div', { class: 'view-head' }, h('h1', null, 'Quotas'), updated),
      modes,
      h('section', { class: 'card', id: 'quota-usage' }, h('div', { class: 'view-head' }, h('h2', null, 'Usage, fullest first'), scan), summary, usageBox),
      defaultsBox,
      h('section', { class: 'card', id: 'quota-groups' }, h('h2', null, 'Group overrides'), h('p', { class: 'muted small' }, 'A member of several groups gets the most generous limit of each kind.'), groupsBox, groupForm.element),
      h('section', { class: 'card', id: 'quota-users' }, h('h2', null, 'User overrides'), h('p', { class: 'muted small' }, "A user's own limits beat every group and the defaults."), usersBox, userForm.element, userNames),
    );
    return () => poller?.stop();
  },
};
