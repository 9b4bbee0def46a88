/**
 * Dashboard: the hub, the proxy, the machine (CPU, memory, disks) and who is working, refreshed
 * every 3 s while it is on screen (GET /hub/api/labhub/status).
 */
import type { BackupSummary, DiskStatus, HubStatus, QuotaStatus } from '../api.js';
import { usageBar } from '../components/bar.js';
import { bytes, dateTime, duration, relativeTime } from '../components/format.js';
import { h, replaceChildren } from '../components/h.js';
import { errorBox } from '../components/notice.js';
import { poll } from '../components/poller.js';
import { runPill } from './backup-runs.js';
import type { View } from './view.js';

const POLL_MS = 3000;
/** Quota usage changes only with the background scans: read it less often. */
const QUOTA_POLL_MS = 15_000;

function card(title: string, ...body: (Node | string)[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', null, title), ...body);
}

function figure(value: string | number, label: string, cls = ''): HTMLElement {
  return h('div', { class: `figure ${cls}` }, h('span', { class: 'figure-value' }, String(value)), h('span', { class: 'figure-label' }, label));
}

function diskBar(d: DiskStatus, label: string): HTMLElement {
  return usageBar(label, d.percent, `${bytes(d.used)} of ${bytes(d.size)} used, ${bytes(d.available)} free (${d.fs})`);
}

/** Last backup, recent failures and users without a recent successful backup (links to the Backups view). */
function backupCard(b: BackupSummary | null): HTMLElement {
  if (!b) return card('Backups', h('p', { class: 'muted' }, 'The backup status could not be read.'));
  const last = b.lastRun;
  return h(
    'section',
    { class: 'card', id: 'backup-card' },
    h('h2', null, 'Backups'),
    b.repositoryError ? h('div', { class: 'error' }, b.repositoryError) : null,
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'Last run'),
      h('dd', null, last ? [runPill(last.status), ` ${last.kind} ${relativeTime(last.time)}`] : 'never', b.enabled ? '' : ' (schedule off)'),
      h('dt', null, 'Not backed up'),
      h(
        'dd',
        { id: 'backup-stale' },
        b.stale.length ? h('span', { class: 'pill bad' }, `${b.stale.length} user${b.stale.length === 1 ? '' : 's'}`) : h('span', { class: 'pill ok' }, 'none'),
        b.stale.length ? ` no successful backup for ${b.staleDays}+ days: ${b.stale.slice(0, 8).join(', ')}${b.stale.length > 8 ? ', …' : ''}` : '',
      ),
    ),
    b.failures.length
      ? h(
          'ul',
          { class: 'failures small' },
          b.failures.map((f) => h('li', null, `${dateTime(f.time)} ${f.status}${f.users.length ? ` (${f.users.join(', ')})` : ''}: ${f.message ?? ''}`)),
        )
      : null,
    h('p', { class: 'small' }, h('a', { href: '#/backups' }, 'Open Backups')),
  );
}

/** Which limits are in force and who is over them (links to the Quotas view). */
function quotaCard(q: QuotaStatus | null): HTMLElement {
  if (!q) return card('Quotas', h('p', { class: 'muted' }, 'The quota status could not be read.'));
  const overHard = q.usage.filter((u) => u.state === 'over-hard').map((u) => u.user);
  const overSoft = q.usage.filter((u) => u.state === 'over-soft').map((u) => u.user);
  const names = (list: string[]) => ` ${list.slice(0, 8).join(', ')}${list.length > 8 ? ', …' : ''}`;
  const count = (list: string[], cls: string) =>
    list.length ? [h('span', { class: `pill ${cls}` }, `${list.length} user${list.length === 1 ? '' : 's'}`), names(list)] : h('span', { class: 'pill ok' }, 'none');
  return h(
    'section',
    { class: 'card', id: 'quota-card' },
    h('h2', null, 'Quotas'),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'Disk'),
      h('dd', { title: q.disk.reason }, q.disk.inForce),
      h('dt', null, 'Memory/CPU'),
      h('dd', { title: q.memory.reason }, q.memory.inForce),
      h('dt', null, 'Over hard limit'),
      h('dd', { id: 'quota-over-hard' }, count(overHard, 'bad')),
      h('dt', null, 'Over soft limit'),
      h('dd', { id: 'quota-over-soft' }, count(overSoft, 'warn')),
    ),
    h('p', { class: 'small' }, h('a', { href: '#/quotas' }, 'Open Quotas')),
  );
}

const NO_MACHINE: NonNullable<HubStatus['machine']> = { hostname: null, cores: null, cpuPercent: null, load: null, memory: null, disks: null, homeDisk: null };

function render(s: HubStatus, quota: QuotaStatus | null): HTMLElement[] {
  const m = s.machine ?? NO_MACHINE;
  const mem = m.memory;
  const memPercent = mem && mem.total ? ((mem.used ?? 0) / mem.total) * 100 : null;
  const cpuDetail = [m.cores ? `${m.cores} cores` : '', m.load ? `load ${m.load.map((l) => l.toFixed(2)).join(' / ')}` : ''].filter(Boolean).join(', ');
  const disks: HTMLElement[] = [];
  if (m.homeDisk) disks.push(diskBar(m.homeDisk, `Homes (${m.homeDisk.mount})`));
  for (const d of m.disks ?? []) if (!m.homeDisk || d.mount !== m.homeDisk.mount) disks.push(diskBar(d, `Disk ${d.mount}`));

  const services = card(
    'Services',
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'Hub'),
      h('dd', null, h('span', { class: 'pill ok' }, 'running'), ` v${s.hub.version}, pid ${s.hub.pid}, up ${duration(s.hub.uptimeSeconds)}`),
      h('dt', null, 'Proxy'),
      h(
        'dd',
        null,
        s.proxy.alive ? h('span', { class: 'pill ok' }, 'running') : h('span', { class: 'pill bad' }, 'not answering'),
        s.proxy.alive ? ` pid ${s.proxy.pid}, up ${duration(s.proxy.uptimeSeconds)}, ${s.proxy.routes ?? 0} routes` : '',
      ),
      h('dt', null, 'Students open'),
      h('dd', null, s.proxy.publicUrl ?? location.origin),
      h('dt', null, 'Machine'),
      h('dd', null, m.hostname ?? '—'),
    ),
  );
  const machine = card(
    'Machine',
    usageBar('CPU', m.cpuPercent, cpuDetail || '—'),
    usageBar('Memory', memPercent, mem ? `${bytes(mem.used)} of ${bytes(mem.total)} used, ${bytes(mem.available)} available` : '—'),
    ...disks,
  );
  const people = card(
    'Students and servers',
    h(
      'div',
      { class: 'figures' },
      figure(s.users.online, 'online now'),
      figure(s.users.total, 'users'),
      figure(s.servers.running, 'running', 'ok'),
      figure(s.servers.starting, 'starting'),
      figure(s.servers.queued, 'queued'),
      figure(s.servers.stopping, 'stopping'),
    ),
    h(
      'p',
      { class: 'muted small' },
      `At most ${s.servers.concurrency} start at once; ${s.servers.limit ? `at most ${s.servers.limit} servers` : 'no limit on servers'}. "Online" = active in the last 5 minutes.`,
    ),
  );
  const failures = card(
    'Recent spawn failures',
    s.spawnFailures.length
      ? h(
          'table',
          { class: 'table compact' },
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Student'), h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'Why'))),
          h(
            'tbody',
            null,
            [...s.spawnFailures]
              .sort((a, b) => Date.parse(b.time) - Date.parse(a.time))
              .slice(0, 10)
              .map((f) => h('tr', null, h('td', null, f.user), h('td', { title: dateTime(f.time) }, relativeTime(f.time)), h('td', { class: 'wrap' }, f.message))),
          ),
        )
      : h('p', { class: 'muted' }, 'None.'),
  );
  const lockouts = card(
    'Login lockouts',
    s.lockouts.length
      ? h(
          'table',
          { class: 'table compact' },
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Who'), h('th', { scope: 'col' }, 'Failures'), h('th', { scope: 'col' }, 'Blocked until'))),
          h(
            'tbody',
            null,
            s.lockouts.map((l) => h('tr', null, h('td', null, `${l.kind === 'address' ? 'address ' : ''}${l.key}`), h('td', null, String(l.failures)), h('td', null, dateTime(l.until)))),
          ),
        )
      : h('p', { class: 'muted' }, 'None.'),
  );
  return [services, machine, people, backupCard(s.backup), quotaCard(quota), failures, lockouts];
}

export const dashboardView: View = {
  id: 'dashboard',
  title: 'Dashboard',
  mount(root, { api }) {
    const grid = h('div', { class: 'dashboard-grid', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
    const updated = h('span', { class: 'muted small' });
    root.append(h('div', { class: 'view-head' }, h('h1', null, 'Dashboard'), updated), grid);
    let quota: QuotaStatus | null = null;
    let quotaAt = 0;
    const poller = poll(async () => {
      try {
        const s = await api.status();
        if (Date.now() - quotaAt >= QUOTA_POLL_MS) {
          quotaAt = Date.now();
          // a quota read that fails leaves the rest of the dashboard alone
          quota = await api.quota().catch(() => quota);
        }
        replaceChildren(grid, render(s, quota));
        updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      } catch (err) {
        replaceChildren(grid, errorBox(err));
      }
      grid.setAttribute('aria-busy', 'false');
    }, POLL_MS);
    return () => poller.stop();
  },
};
