/**
 * Modal dialogs on the native `<dialog>` element: focus moves in and back, Escape cancels, the rest
 * of the page is inert while it is open.
 */
import { h, type Child } from './h.js';

export interface DialogAction {
  label: string;
  kind?: 'primary' | 'secondary' | 'danger';
  /** Return false (or a promise of false) to keep the dialog open, e.g. after showing an error. */
  run?: () => unknown;
  /** Initially disabled; views enable it when a form inside becomes valid. */
  disabled?: boolean;
  name?: string;
}

export interface OpenDialog {
  element: HTMLDialogElement;
  buttons: Map<string, HTMLButtonElement>;
  close(): void;
  closed: Promise<void>;
}

export function openDialog(title: string, body: Child, actions: DialogAction[]): OpenDialog {
  const heading = h('h2', { id: `dlg-${Math.random().toString(36).slice(2)}` }, title);
  const buttons = new Map<string, HTMLButtonElement>();
  const footer = h('div', { class: 'dialog-actions' });
  const el = h('dialog', { class: 'dialog', 'aria-labelledby': heading.id }, heading, h('div', { class: 'dialog-body' }, body), footer);
  const opener = document.activeElement as HTMLElement | null;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const close = () => {
    if (el.open) el.close();
  };
  el.addEventListener('close', () => {
    el.remove();
    opener?.focus?.();
    resolveClosed();
  });
  for (const a of actions) {
    const b = h('button', { type: 'button', class: a.kind ?? 'secondary', disabled: a.disabled }, a.label);
    buttons.set(a.name ?? a.label, b);
    b.addEventListener('click', async () => {
      if (!a.run) return close();
      b.disabled = true;
      try {
        const keep = (await a.run()) === false;
        if (!keep) close();
      } finally {
        b.disabled = false;
      }
    });
    footer.appendChild(b);
  }
  document.body.appendChild(el);
  el.showModal();
  return { element: el, buttons, close, closed };
}

/** Asks a yes/no question; resolves true when confirmed. */
export function confirmDialog(title: string, message: Child, confirmLabel: string, kind: 'primary' | 'danger' = 'primary'): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = false;
    const d = openDialog(title, h('p', null, message), [
      { label: 'Cancel' },
      { label: confirmLabel, kind, run: () => void (answer = true) },
    ]);
    void d.closed.then(() => resolve(answer));
  });
}
