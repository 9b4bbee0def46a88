/**
 * The HTML shell of every hub page. Pages are plain template functions; every interpolated value
 * goes through `esc`. Scripts and styles come from /hub/static so the CSP can forbid inline code.
 */

export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'";

export interface PageOptions {
  title: string;
  /** Logged-in user shown in the header, with a logout link. */
  user?: string | null;
  /** Extra scripts from /hub/static. */
  scripts?: string[];
  /** Data for scripts, rendered as data-* attributes on <main>. */
  data?: Record<string, string>;
}

export function page(o: PageOptions, body: string): string {
  // HTML lower-cases attribute names: `progressUrl` must be written `data-progress-url` for
  // `dataset.progressUrl` to find it
  const data = Object.entries(o.data ?? {})
    .map(([k, v]) => ` data-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${esc(v)}"`)
    .join('');
  const nav = o.user
    ? `<nav><span class="who">${esc(o.user)}</span> <a href="/hub/home">Home</a> <a href="/hub/logout">Log out</a></nav>`
    : '';
  const scripts = (o.scripts ?? []).map((s) => `<script src="/hub/static/${esc(s)}" defer></script>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)} · LabHub</title><link rel="stylesheet" href="/hub/static/labhub.css"><link rel="icon" href="/hub/logo">${scripts}</head>
<body><header><a class="brand" href="/hub/"><img src="/hub/logo" alt="" width="28" height="28"> LabHub</a>${nav}</header>
<main${data}>${body}</main></body></html>`;
}
