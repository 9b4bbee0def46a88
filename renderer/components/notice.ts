/**
 * One live region for results of actions ("Stopped s01's server", errors). Screen readers announce
 * it; messages fade after a while, errors stay until dismissed.
 */
import { h } from './h.js';
import { ApiError } from '../api.js';

let region: HTMLElement | null = null;

export function noticeRegion(): HTMLElement {
  region ??= h('div', { class: 'notices', 'aria-live': 'polite', role: 'status' });
  return region;
}

export function notify(message: string, kind: 'ok' | 'error' = 'ok'): void {
  const close = h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss' }, '×');
  const item = h('div', { class: `notice-item ${kind}` }, h('span', null, message), close);
  close.addEventListener('click', () => item.remove());
  noticeRegion().appendChild(item);
  if (kind === 'ok') setTimeout(() => item.remove(), 6000);
}

/** The message to show for any error, with the hub's per-field problems appended. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const extra = err.problems.map((p) => `${p.field}: ${p.message}`).join('\n');
    return extra ? `${err.message}\n${extra}` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** An inline error box (for a view's own area). */
export function errorBox(err: unknown): HTMLElement {
  return h('div', { class: 'error', role: 'alert' }, errorText(err));
}
