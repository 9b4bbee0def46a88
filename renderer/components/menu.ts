/**
 * A small drop-down menu of buttons under an anchor (the "More" actions of a table row). Arrow
 * keys move, Escape and a click elsewhere close it, focus returns to the anchor.
 */
import { h } from './h.js';

export interface MenuItem {
  label: string;
  danger?: boolean;
  run: () => void;
}

let current: (() => void) | null = null;

export function openMenu(anchor: HTMLElement, items: MenuItem[]): void {
  current?.();
  const buttons = items.map((item) =>
    h('button', { type: 'button', role: 'menuitem', class: item.danger ? 'menu-item danger-text' : 'menu-item' }, item.label),
  );
  const menu = h('div', { class: 'menu', role: 'menu' }, buttons);
  const r = anchor.getBoundingClientRect();
  menu.style.top = `${r.bottom + window.scrollY + 4}px`;
  menu.style.left = `${Math.max(8, r.right + window.scrollX - 220)}px`;
  const close = (refocus: boolean) => {
    menu.remove();
    document.removeEventListener('mousedown', outside, true);
    anchor.setAttribute('aria-expanded', 'false');
    if (current === closeNow) current = null;
    if (refocus) anchor.focus();
  };
  const closeNow = () => close(false);
  const outside = (e: MouseEvent) => {
    if (!menu.contains(e.target as Node)) close(false);
  };
  buttons.forEach((b, i) =>
    b.addEventListener('click', () => {
      close(true);
      items[i]!.run();
    }),
  );
  menu.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === 'Escape') close(true);
    else if (e.key === 'ArrowDown') buttons[(i + 1) % buttons.length]!.focus();
    else if (e.key === 'ArrowUp') buttons[(i - 1 + buttons.length) % buttons.length]!.focus();
    else if (e.key === 'Tab') close(false);
    else return;
    e.preventDefault();
  });
  document.body.appendChild(menu);
  document.addEventListener('mousedown', outside, true);
  anchor.setAttribute('aria-expanded', 'true');
  current = closeNow;
  buttons[0]?.focus();
}
