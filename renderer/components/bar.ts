/** A horizontal usage bar (CPU, memory, disk) with its figure; amber over 75 %, red over 90 %. */
import { h } from './h.js';

export function usageBar(label: string, percent: number | null, detail: string): HTMLElement {
  const p = percent === null || !Number.isFinite(percent) ? null : Math.min(100, Math.max(0, percent));
  const fill = h('div', { class: `bar-fill${p !== null && p > 90 ? ' high' : p !== null && p > 75 ? ' mid' : ''}` });
  // CSSOM, not a style attribute: the CSP allows the former only
  fill.style.width = `${p ?? 0}%`;
  return h(
    'div',
    { class: 'usage' },
    h('div', { class: 'usage-head' }, h('span', null, label), h('span', { class: 'muted' }, p === null ? 'unknown' : `${p.toFixed(0)} %`)),
    h(
      'div',
      { class: 'bar', role: 'meter', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': p ?? undefined, 'aria-valuetext': p === null ? 'unknown' : `${p.toFixed(0)} percent, ${detail}` },
      fill,
    ),
    h('div', { class: 'muted small' }, detail),
  );
}
