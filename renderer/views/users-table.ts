/**
 * The users table, built for a few hundred rows refreshed every few seconds: each row is built
 * once and then updated in place (only changed text is written), filtering toggles `hidden`,
 * sorting moves the existing rows, and rows off screen are not rendered until scrolled to (see
 * styles.css). Filter, sort, selection and focus survive every refresh.
 */
import type { QuotaUsage, ServerState, UserRow } from '../api.js';
import { h } from '../components/h.js';
import { buildRow, fillRow, type Row } from './users-row.js';

export type SortKey = 'name' | 'fullName' | 'groups' | 'admin' | 'server' | 'lastActivity' | 'homeBytes';
export type StateFilter = 'all' | 'running' | 'pending' | 'stopped';
export type RowAction = 'start' | 'stop' | 'more';


const COLUMNS: { key: SortKey; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'fullName', label: 'Full name' },
  { key: 'groups', label: 'Groups' },
  { key: 'admin', label: 'Admin' },
  { key: 'server', label: 'Server' },
  { key: 'lastActivity', label: 'Last activity' },
  { key: 'homeBytes', label: 'Home' },
];

const STATE_ORDER: Record<ServerState, number> = { running: 0, starting: 1, queued: 2, stopping: 3, stopped: 4 };

function compare(key: SortKey, a: UserRow, b: UserRow): number {
  switch (key) {
    case 'name':
      return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    case 'fullName':
      return (a.fullName ?? '').localeCompare(b.fullName ?? '');
    case 'groups':
      return a.groups.join(',').localeCompare(b.groups.join(','));
    case 'admin':
      return Number(b.admin) - Number(a.admin);
    case 'server':
      return STATE_ORDER[a.server] - STATE_ORDER[b.server];
    case 'lastActivity':
      return (b.lastActivity ? Date.parse(b.lastActivity) : 0) - (a.lastActivity ? Date.parse(a.lastActivity) : 0);
    case 'homeBytes':
      return (b.homeBytes ?? -1) - (a.homeBytes ?? -1);
  }
}


export class UsersTable {
  readonly element: HTMLTableElement;
  readonly selected = new Set<string>();
  private readonly tbody: HTMLTableSectionElement;
  private readonly rows = new Map<string, Row>();
  private readonly headers = new Map<SortKey, HTMLTableCellElement>();
  private readonly selectAll: HTMLInputElement;
  private order: string[] = [];
  private filterText = '';
  private stateFilter: StateFilter = 'all';
  private sortKey: SortKey = 'name';
  private sortDir: 1 | -1 = 1;
  shown = 0;

  constructor(
    private readonly onAction: (action: RowAction, user: UserRow, anchor: HTMLElement) => void,
    private readonly onSelection: () => void,
  ) {
    this.selectAll = h('input', { type: 'checkbox', 'aria-label': 'Select all shown users' });
    this.selectAll.addEventListener('change', () => this.selectShown(this.selectAll.checked));
    const headRow = h('tr', { role: 'row' }, h('th', { scope: 'col', role: 'columnheader', class: 'select' }, this.selectAll));
    for (const c of COLUMNS) {
      const button = h('button', { type: 'button', class: 'sort' }, c.label);
      button.addEventListener('click', () => this.setSort(c.key, this.sortKey === c.key ? (-this.sortDir as 1 | -1) : 1));
      const th = h('th', { scope: 'col', role: 'columnheader', 'aria-sort': 'none', dataset: { key: c.key } }, button);
      this.headers.set(c.key, th);
      headRow.appendChild(th);
    }
    headRow.appendChild(h('th', { scope: 'col', role: 'columnheader' }, h('span', { class: 'visually-hidden' }, 'Actions')));
    this.tbody = h('tbody', { role: 'rowgroup' });
    this.tbody.addEventListener('click', (e) => this.onClick(e));
    this.tbody.addEventListener('change', (e) => this.onCheck(e));
    // Rows are CSS grids so that off-screen ones can skip style, layout and paint
    // (`content-visibility: auto` does not apply to table-row boxes); the explicit roles keep the
    // table semantics that a changed `display` would otherwise drop.
    this.element = h('table', { class: 'table users-table', id: 'users-table', role: 'table' }, h('thead', { role: 'rowgroup' }, headRow), this.tbody);
    this.markSort();
  }

  /** Applies a fresh listing: new rows are built, known ones updated in place, gone ones removed. */
  update(users: readonly UserRow[], now = Date.now(), quotas?: ReadonlyMap<string, QuotaUsage>): void {
    const seen = new Set<string>();
    let added = false;
    const fresh = document.createDocumentFragment();
    for (const u of users) {
      seen.add(u.name);
      let row = this.rows.get(u.name);
      if (!row) {
        row = buildRow(u);
        this.rows.set(u.name, row);
        fresh.appendChild(row.tr);
        added = true;
      }
      fillRow(row, u, now, quotas?.get(u.name));
    }
    for (const [name, row] of this.rows) {
      if (seen.has(name)) continue;
      row.tr.remove();
      this.rows.delete(name);
      this.selected.delete(name);
    }
    if (added) this.tbody.appendChild(fresh);
    this.sort(added);
    this.filter();
  }

  get size(): number {
    return this.rows.size;
  }

  user(name: string): UserRow | undefined {
    return this.rows.get(name)?.data;
  }

  setFilter(text: string, state: StateFilter): void {
    this.filterText = text.trim().toLowerCase();
    this.stateFilter = state;
    this.filter();
  }

  setSort(key: SortKey, dir: 1 | -1): void {
    this.sortKey = key;
    this.sortDir = dir;
    this.markSort();
    this.sort(true);
  }

  clearSelection(): void {
    for (const name of this.selected) {
      const row = this.rows.get(name);
      if (row) row.check.checked = false;
    }
    this.selected.clear();
    this.syncSelectAll();
    this.onSelection();
  }


  private sort(force: boolean): void {
    const key = this.sortKey;
    const dir = this.sortDir;
    const names = [...this.rows.values()]
      .sort((a, b) => dir * compare(key, a.data, b.data) || (a.data.name < b.data.name ? -1 : 1))
      .map((r) => r.data.name);
    if (!force && names.length === this.order.length && names.every((n, i) => n === this.order[i])) return;
    this.order = names;
    const frag = document.createDocumentFragment();
    for (const n of names) frag.appendChild(this.rows.get(n)!.tr);
    this.tbody.appendChild(frag);
  }

  private filter(): void {
    const text = this.filterText;
    const state = this.stateFilter;
    let shown = 0;
    for (const row of this.rows.values()) {
      const s = row.data.server;
      const visible =
        (!text || row.search.includes(text)) &&
        (state === 'all' || (state === 'running' ? s === 'running' : state === 'stopped' ? s === 'stopped' : s !== 'running' && s !== 'stopped'));
      if (row.tr.hidden === visible) row.tr.hidden = !visible;
      if (visible) shown++;
    }
    this.shown = shown;
    this.syncSelectAll();
  }

  private markSort(): void {
    for (const [key, th] of this.headers) {
      th.setAttribute('aria-sort', key === this.sortKey ? (this.sortDir === 1 ? 'ascending' : 'descending') : 'none');
    }
  }

  private selectShown(on: boolean): void {
    for (const row of this.rows.values()) {
      if (row.tr.hidden) continue;
      row.check.checked = on;
      if (on) this.selected.add(row.data.name);
      else this.selected.delete(row.data.name);
    }
    this.onSelection();
  }

  private syncSelectAll(): void {
    let shownSelected = 0;
    for (const name of this.selected) if (this.rows.get(name)?.tr.hidden === false) shownSelected++;
    this.selectAll.checked = this.shown > 0 && shownSelected === this.shown;
    this.selectAll.indeterminate = shownSelected > 0 && shownSelected < this.shown;
  }

  private onCheck(e: Event): void {
    const input = e.target as HTMLInputElement;
    const name = input.closest('tr')?.dataset.user;
    if (!name || input.type !== 'checkbox') return;
    if (input.checked) this.selected.add(name);
    else this.selected.delete(name);
    this.syncSelectAll();
    this.onSelection();
  }

  private onClick(e: Event): void {
    const button = (e.target as Element).closest<HTMLButtonElement>('button[data-action]');
    const name = button?.closest('tr')?.dataset.user;
    const row = name ? this.rows.get(name) : undefined;
    if (!button || !row) return;
    this.onAction(button.dataset.action as RowAction, row.data, button);
  }
}
