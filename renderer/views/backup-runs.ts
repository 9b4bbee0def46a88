/**
 * The Backups view's history: one row per run (start, end, status, users ok/failed, bytes added,
 * message); a row opens to show each user's result, the hub-state snapshot and retention.
 */
import type { BackupRunRecord, RunStatus } from '../api.js';
import { bytes, dateTime, duration } from '../components/format.js';
import { h } from '../components/h.js';

const PILL: Record<RunStatus, string> = { running: 'state-starting', ok: 'ok', partial: 'status-skipped', failed: 'bad', skipped: 'status-skipped' };

/** A status as a coloured pill. */
export function runPill(status: RunStatus | string): HTMLElement {
  return h('span', { class: `pill ${PILL[status as RunStatus] ?? ''}` }, status);
}

function details(r: BackupRunRecord): HTMLElement {
  const rows = r.results.map((u) =>
    h(
      'tr',
      { dataset: { user: u.user } },
      h('td', null, u.user),
      h('td', null, runPill(u.status)),
      h('td', { class: 'mono' }, u.snapshotId?.slice(0, 8) ?? '—'),
      h('td', { class: 'num' }, bytes(u.bytesAdded)),
      h('td', { class: 'num' }, `${u.filesNew} new, ${u.filesChanged} changed`),
      h('td', { class: 'num' }, u.durationSeconds < 1 ? '< 1 s' : duration(u.durationSeconds)),
      h('td', { class: 'wrap' }, u.errors.join('\n')),
    ),
  );
  const extra: string[] = [];
  if (r.hubState) extra.push(`Hub state and config: ${r.hubState.error ?? `snapshot ${r.hubState.snapshotId?.slice(0, 8) ?? '—'}`}`);
  if (r.retention) extra.push(`Retention: ${r.retention.error ?? `${r.retention.removed} old snapshot(s) removed`}`);
  extra.push(`Started by ${r.by} (${r.trigger}).`);
  return h(
    'div',
    { class: 'run-details' },
    rows.length
      ? h(
          'table',
          { class: 'table compact' },
          h('thead', null, h('tr', null, ['User', 'Status', 'Snapshot', 'Added', 'Files', 'Took', 'Errors'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', null, rows),
        )
      : null,
    extra.map((t) => h('p', { class: 'muted small' }, t)),
  );
}

/** The runs table; `expanded` holds the ids of opened rows (kept by the view across refreshes). */
export function runsTable(runs: BackupRunRecord[], expanded: Set<string>, onToggle: () => void): HTMLElement {
  if (!runs.length) return h('p', { class: 'muted' }, 'No runs yet.');
  const body = h('tbody');
  for (const r of runs) {
    const open = expanded.has(r.id);
    const ok = r.results.filter((u) => u.status === 'ok').length;
    const failed = r.results.filter((u) => u.status === 'failed' || u.status === 'partial').length;
    const toggle = h('button', { type: 'button', class: 'link small', 'aria-expanded': String(open), 'aria-label': `Details of run ${r.id}` }, open ? '▾' : '▸');
    toggle.addEventListener('click', () => {
      if (expanded.has(r.id)) expanded.delete(r.id);
      else expanded.add(r.id);
      onToggle();
    });
    body.append(
      h(
        'tr',
        { dataset: { run: r.id, status: r.status } },
        h('td', null, toggle),
        h('td', null, dateTime(r.started)),
        h('td', null, r.ended ? dateTime(r.ended) : '…'),
        h('td', null, r.kind === 'check' ? 'check' : 'backup'),
        h('td', null, runPill(r.status)),
        h('td', { class: 'num' }, r.kind === 'backup' ? `${ok} / ${failed}` : '—'),
        h('td', { class: 'num' }, r.kind === 'backup' ? bytes(r.bytesAdded) : '—'),
        h('td', { class: 'wrap' }, r.message ?? ''),
      ),
    );
    if (open) body.append(h('tr', { class: 'run-detail-row' }, h('td', { colspan: 8 }, details(r))));
  }
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table compact', id: 'backup-runs' },
      h('thead', null, h('tr', null, ['', 'Started', 'Ended', 'Kind', 'Status', 'Users ok / failed', 'Added', 'Message'].map((t) => h('th', { scope: 'col' }, t)))),
      body,
    ),
  );
}
