/**
 * xterm.js, loaded only when a terminal is first shown: the hub serves its UMD bundle (which sets
 * `window.Terminal`) and stylesheet under /hub/admin/static/xterm/. Only the few members the
 * renderer uses are typed here. Its run-time <style> elements go through xterm-styles.ts (CSP).
 */

export interface XTerminal {
  readonly cols: number;
  readonly rows: number;
  open(parent: HTMLElement): void;
  write(data: string): void;
  writeln(data: string): void;
  reset(): void;
  resize(cols: number, rows: number): void;
  focus(): void;
  onData(listener: (data: string) => void): { dispose(): void };
  dispose(): void;
}

type TerminalCtor = new (options?: Record<string, unknown>) => XTerminal;

import { mirrorInlineStyles } from './xterm-styles.js';

const BASE = '/hub/admin/static/xterm';
let loading: Promise<TerminalCtor> | null = null;

export function loadXterm(): Promise<TerminalCtor> {
  loading ??= new Promise<TerminalCtor>((resolve, reject) => {
    mirrorInlineStyles();
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = `${BASE}/xterm.css`;
    document.head.appendChild(css);
    const script = document.createElement('script');
    script.src = `${BASE}/xterm.js`;
    script.onload = () => {
      const T = (window as unknown as { Terminal?: TerminalCtor }).Terminal;
      if (T) resolve(T);
      else reject(new Error('xterm.js loaded but did not define Terminal'));
    };
    script.onerror = () => {
      loading = null;
      reject(new Error(`could not load ${script.src}`));
    };
    document.head.appendChild(script);
  });
  return loading;
}

/** Columns and rows that fit `el` for a monospace font of `fontSize` px (no fit add-on needed). */
export function fitSize(el: HTMLElement, fontSize: number, rows = 24): { cols: number; rows: number } {
  const width = el.clientWidth || 800;
  return { cols: Math.max(40, Math.min(1000, Math.floor((width - 16) / (fontSize * 0.6)))), rows };
}

export async function createTerminal(parent: HTMLElement, opts: { readOnly?: boolean; rows?: number } = {}): Promise<XTerminal> {
  const Terminal = await loadXterm();
  const fontSize = 13;
  const size = fitSize(parent, fontSize, opts.rows);
  const term = new Terminal({
    ...size,
    fontSize,
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace',
    convertEol: !!opts.readOnly,
    cursorBlink: !opts.readOnly,
    disableStdin: !!opts.readOnly,
    scrollback: 5000,
    theme: { background: '#10202e', foreground: '#e6ebf0' },
  });
  term.open(parent);
  return term;
}
