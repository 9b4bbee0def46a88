/**
 * The disk quota on the student's pages: a banner over the soft limit, the usage against the
 * limits on the home page, the cleanup-mode notice, and the page that explains a refused start
 * with the way out (start in cleanup mode, delete files, restart).
 */
import type { UserQuota } from '../quota/service.js';
import { formatSize } from '../quota/size.js';
import { esc, page } from './layout.js';

/** Banner for hub pages (empty when there is nothing to say). */
export function quotaBanner(q: UserQuota | null, running: boolean): string {
  if (!q) return '';
  const parts: string[] = [];
  if (q.cleanup && running) {
    const under = formatSize(q.limits.diskSoft || q.limits.diskHard);
    parts.push(`<p class="notice" id="quota-cleanup" role="alert"><strong>Cleanup mode:</strong> delete files until you are under ${esc(under)}, then stop and restart your server.</p>`);
  }
  if ((q.state === 'over-soft' || q.state === 'over-hard') && q.message) {
    parts.push(`<p class="notice" id="quota-warning" role="alert">${esc(q.message)}</p>`);
  }
  return parts.join('');
}

/** "Disk: 1.2M of 4M (soft 2M)" on the home page. */
export function quotaUsageLine(q: UserQuota | null): string {
  if (!q || !q.usage || q.state === 'no-limit') return '';
  const limits = [q.limits.diskHard ? `limit ${formatSize(q.limits.diskHard)}` : '', q.limits.diskSoft ? `warning at ${formatSize(q.limits.diskSoft)}` : '']
    .filter(Boolean)
    .join(', ');
  return `<p class="muted" id="quota-usage">Disk: ${esc(formatSize(q.usage.bytes))} used (${esc(limits)}), measured ${esc(new Date(q.usage.measuredAt).toUTCString())}.</p>`;
}

/** A start refused over the hard limit, with the cleanup-mode way out. */
export function quotaRefusedPage(o: { user: string; viewer: string; message: string }): string {
  return page(
    { title: 'Over your disk limit', user: o.viewer },
    `<h1>Over your disk limit</h1><p class="error" id="quota-refused">${esc(o.message)}</p>
<p>A server in <strong>cleanup mode</strong> is your normal server, started so you can delete or download files. Once you are under the limit, stop it and start it again from the home page.</p>
<a class="button" id="cleanup" href="/hub/spawn/${esc(o.user)}?cleanup=1">Start in cleanup mode</a>
<a class="button secondary" href="/hub/restore">Restore or review files</a>
<a class="button secondary" href="/hub/home">Home</a>`,
  );
}
