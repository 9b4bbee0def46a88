/**
 * Logs: the hub's, the proxy's or one student's server log (GET /hub/api/labhub/logs/<id>), the
 * last N lines, filtered by a search term on the hub, optionally followed every 3 s.
 * `#/logs?id=users/s01` opens a student's log directly (the Users view links there).
 */
import type { LogInfo } from '../api.js';
import { bytes, relativeTime } from '../components/format.js';
import { h, replaceChildren } from '../components/h.js';
import { logNodes } from '../components/log-lines.js';
import { errorText } from '../components/notice.js';
import { poll, type Poller } from '../components/poller.js';
import type { View } from './view.js';

const FOLLOW_MS = 3000;

function logLabel(l: LogInfo): string {
  const what = l.id === 'hub' ? 'Hub' : l.id === 'proxy' ? 'Proxy' : `Server of ${l.id.replace(/^users\//, '')}`;
  return `${what} (${bytes(l.size)}, ${relativeTime(l.modified)})`;
}

export const logsView: View = {
  id: 'logs',
  title: 'Logs',
  mount(root, { api, params }) {
    const select = h('select', { id: 'log-id' });
    const lines = h('input', { type: 'number', id: 'log-lines', min: 10, max: 5000, step: 10, value: '200' });
    const q = h('input', { type: 'search', id: 'log-q', placeholder: 'only lines containing…', autocomplete: 'off' });
    const follow = h('input', { type: 'checkbox', id: 'log-follow' });
    const raw = h('input', { type: 'checkbox', id: 'log-raw' });
    let last: string[] = [];
    const refresh = h('button', { type: 'button', class: 'small secondary' }, 'Refresh');
    const info = h('p', { class: 'muted small', id: 'log-info' });
    const out = h('pre', { class: 'log-output', id: 'log-output', tabindex: 0, 'aria-label': 'Log lines' });
    let follower: Poller | null = null;
    let wanted = params.get('id') ?? 'hub';
    let debounce: ReturnType<typeof setTimeout> | undefined;

    const tail = async () => {
      const id = select.value;
      if (!id) return;
      const n = Math.min(5000, Math.max(10, Number(lines.value) || 200));
      try {
        const t = await api.logTail(id, n, q.value.trim());
        if (id !== select.value) return;
        const atBottom = out.scrollTop + out.clientHeight >= out.scrollHeight - 8;
        last = t.lines;
        show();
        info.textContent = `${t.lines.length} line${t.lines.length === 1 ? '' : 's'} of ${bytes(t.size)}${t.truncated ? ' (older lines not shown)' : ''} · ${new Date().toLocaleTimeString()}`;
        if (atBottom || !follower) out.scrollTop = out.scrollHeight;
      } catch (err) {
        last = [];
        out.textContent = '';
        info.textContent = errorText(err);
      }
    };
    const show = () => {
      if (last.length) out.replaceChildren(logNodes(last, raw.checked));
      else out.textContent = q.value.trim() ? 'No line matches.' : 'The log is empty.';
    };
    const setFollow = () => {
      follower?.stop();
      follower = follow.checked ? poll(tail, FOLLOW_MS) : null;
    };

    const loadList = async () => {
      try {
        const logs = await api.logs();
        if (!logs.some((l) => l.id === wanted)) wanted = logs[0]?.id ?? '';
        const fixed = logs.filter((l) => !l.id.startsWith('users/'));
        const users = logs.filter((l) => l.id.startsWith('users/')).sort((a, b) => a.id.localeCompare(b.id));
        select.replaceChildren(
          ...fixed.map((l) => h('option', { value: l.id, selected: l.id === wanted }, logLabel(l))),
          users.length ? h('optgroup', { label: 'Student servers' }, users.map((l) => h('option', { value: l.id, selected: l.id === wanted }, logLabel(l)))) : '',
        );
        select.value = wanted;
        if (!logs.length) out.textContent = 'No logs yet.';
        else await tail();
      } catch (err) {
        info.textContent = errorText(err);
      }
    };

    select.addEventListener('change', () => {
      wanted = select.value;
      history.replaceState(null, '', `#/logs?id=${encodeURIComponent(wanted)}`);
      void tail();
    });
    lines.addEventListener('change', () => void tail());
    q.addEventListener('input', () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => void tail(), 250);
    });
    follow.addEventListener('change', setFollow);
    raw.addEventListener('change', show);
    refresh.addEventListener('click', () => void loadList());

    root.append(
      h('div', { class: 'view-head' }, h('h1', null, 'Logs')),
      h(
        'div',
        { class: 'toolbar' },
        h('label', { for: select.id }, 'Log'),
        select,
        h('label', { for: lines.id }, 'Lines'),
        lines,
        h('label', { for: q.id }, 'Search'),
        q,
        h('span', { class: 'check' }, follow, h('label', { for: follow.id }, 'Follow')),
        h('span', { class: 'check' }, raw, h('label', { for: raw.id }, 'Raw')),
        refresh,
      ),
      info,
      out,
    );
    void loadList();
    return () => {
      follower?.stop();
      clearTimeout(debounce);
    };
  },
};
