/**
 * One row of the users table: built by cloning a prototype row, then updated in place on every
 * refresh, writing to the DOM only what changed (a poll touches 500 rows every 3 s).
 */
import type { QuotaUsage, UserRow } from '../api.js';
import { bytes, dateTime, relativeTime } from '../components/format.js';
import { h, setText } from '../components/h.js';

export interface Row {
  data: UserRow;
  tr: HTMLTableRowElement;
  check: HTMLInputElement;
  name: HTMLElement;
  badges: HTMLElement;
  fullName: HTMLElement;
  groups: HTMLElement;
  admin: HTMLElement;
  state: HTMLElement;
  activity: HTMLElement;
  home: HTMLElement;
  homeSize: HTMLElement;
  homeQuota: HTMLElement;
  toggle: HTMLButtonElement;
  open: HTMLAnchorElement;
  search: string;
}

function stateLabel(u: UserRow): string {
  if (u.server === 'queued' && u.queuePosition) return `queued (#${u.queuePosition})`;
  return u.server;
}

const QUOTA_STATE: Record<string, string> = { ok: 'within quota', 'over-soft': 'over the soft limit', 'over-hard': 'over the hard limit' };

let proto: HTMLTableRowElement | null = null;

/** A row is a clone of one prototype (much cheaper than building 15 elements per row). */
export function buildRow(u: UserRow): Row {
  proto ??= h(
    'tr',
    { role: 'row' },
    h('td', { role: 'cell', class: 'select' }, h('input', { type: 'checkbox' })),
    h('th', { scope: 'row', role: 'rowheader' }, h('span', { class: 'user-name' }), h('span', { class: 'badges' })),
    h('td', { role: 'cell' }),
    h('td', { role: 'cell' }),
    h('td', { role: 'cell' }),
    h('td', { role: 'cell', class: 'state-cell' }, h('span', { class: 'pill' })),
    h('td', { role: 'cell' }),
    h('td', { role: 'cell', class: 'num home-cell' }, h('span'), h('span', { class: 'home-quota' })),
    h(
      'td',
      { role: 'cell', class: 'actions' },
      h('button', { type: 'button', class: 'small', dataset: { action: 'start' } }),
      h('a', { class: 'button small secondary', target: '_blank', rel: 'noopener' }, 'Open'),
      h('button', { type: 'button', class: 'small secondary', dataset: { action: 'more' }, 'aria-haspopup': 'menu', 'aria-expanded': 'false' }, 'More ▾'),
    ),
  );
  const tr = proto.cloneNode(true) as HTMLTableRowElement;
  tr.dataset.user = u.name;
  const c = tr.children;
  (c[1] as HTMLElement).title = u.name;
  const check = c[0]!.firstElementChild as HTMLInputElement;
  check.setAttribute('aria-label', `Select ${u.name}`);
  const [toggle, open, more] = Array.from(c[8]!.children) as [HTMLButtonElement, HTMLAnchorElement, HTMLButtonElement];
  open.href = u.url;
  open.setAttribute('aria-label', `Open ${u.name}'s server in a new tab`);
  more.setAttribute('aria-label', `More actions for ${u.name}`);
  return {
    data: u,
    tr,
    check,
    name: c[1]!.firstElementChild as HTMLElement,
    badges: c[1]!.lastElementChild as HTMLElement,
    fullName: c[2] as HTMLElement,
    groups: c[3] as HTMLElement,
    admin: c[4] as HTMLElement,
    state: c[5]!.firstElementChild as HTMLElement,
    activity: c[6] as HTMLElement,
    home: c[7] as HTMLElement,
    homeSize: c[7]!.firstElementChild as HTMLElement,
    homeQuota: c[7]!.lastElementChild as HTMLElement,
    toggle,
    open,
    search: '',
  };
}

/** Brings a row up to date with a fresh listing (relative times move on every poll). */
export function fillRow(row: Row, u: UserRow, now: number, q?: QuotaUsage): void {
  const prev = row.data;
  row.data = u;
  row.search = `${u.name}\n${u.fullName ?? ''}\n${u.groups.join('\n')}`.toLowerCase();
  setText(row.name, u.name);
  const badges = [u.linux === false ? 'no Linux account' : '', u.lockedOut ? 'locked out' : ''].filter(Boolean).join(' · ');
  setText(row.badges, badges);
  // cells end in an ellipsis when narrow: the title shows all
  const fullName = u.fullName ?? '';
  setText(row.fullName, fullName);
  if (row.fullName.title !== fullName) row.fullName.title = fullName;
  const groups = u.groups.join(', ');
  setText(row.groups, groups);
  if (row.groups.title !== groups) row.groups.title = groups;
  setText(row.admin, u.admin ? 'yes' : '');
  setText(row.state, stateLabel(u));
  if (prev.server !== u.server || !row.state.dataset.state) {
    row.state.className = `pill state-${u.server}`;
    row.state.dataset.state = u.server;
    row.tr.dataset.state = u.server;
  }
  setText(row.activity, relativeTime(u.lastActivity, now));
  if (prev.lastActivity !== u.lastActivity || !row.activity.title) row.activity.title = u.lastActivity ? dateTime(u.lastActivity) : 'never';
  setText(row.homeSize, bytes(u.homeBytes));
  // with quotas: how full the home is against the user's limit, amber over soft, red over hard
  const quotaText = q && q.percent !== null && q.state !== 'no-limit' ? `${Math.round(q.percent)} %` : '';
  setText(row.homeQuota, quotaText);
  const quotaState = q?.state ?? '';
  if (row.homeQuota.dataset.state !== quotaState) {
    row.homeQuota.dataset.state = quotaState;
    row.tr.dataset.quota = quotaState;
  }
  const measured = u.homeMeasuredAt ? `measured ${relativeTime(u.homeMeasuredAt, now)}` : 'not measured yet';
  const limits = q && q.state !== 'no-limit' ? `; ${QUOTA_STATE[q.state] ?? q.state}${q.limits.diskHard ? `, hard limit ${bytes(q.limits.diskHard)}` : ''}${q.limits.diskSoft ? `, soft ${bytes(q.limits.diskSoft)}` : ''}` : '';
  const title = measured + limits;
  if (row.home.title !== title) row.home.title = title;
  const stop = u.server !== 'stopped';
  const label = u.server === 'stopping' ? 'Stopping…' : stop ? 'Stop' : 'Start';
  // a refresh writes to the DOM only what changed
  if (row.toggle.textContent !== label) {
    row.toggle.textContent = label;
    row.toggle.dataset.action = stop ? 'stop' : 'start';
    row.toggle.setAttribute('aria-label', `${label} ${u.name}'s server`);
  }
  const disabled = u.server === 'stopping' || u.linux === false;
  if (row.toggle.disabled !== disabled) row.toggle.disabled = disabled;
  const noOpen = u.server !== 'running';
  if (row.open.hidden !== noOpen) row.open.hidden = noOpen;
  if (row.open.getAttribute('href') !== u.url) row.open.href = u.url;
}
