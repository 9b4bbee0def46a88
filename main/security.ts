/**
 * What the app's pages may do, following Electron's security checklist
 * (https://www.electronjs.org/docs/latest/tutorial/security) and podman-desktop's
 * SecurityRestrictions: the window shows only the hub's own pages (`/hub/…` of an allowed origin)
 * and the app's shell page; no new windows (links to the hub's origin open in the system browser
 * instead); every permission request denied; IPC only from top-level frames of those pages.
 * Students' servers (`/user/<name>/…`) share the hub's origin but run students' code, so they
 * never load in the window, where `window.labhub` could run the installer or open terminals.
 * The decisions are pure functions; `installSecurity` attaches them to Electron objects.
 */
import type { Session, WebContents } from 'electron';
import { issuedByLabCa } from './lab-tls.js';

/** The pages the app trusts: hub origins (e.g. `http://127.0.0.1:8000`) and its own file:// pages. */
export interface AllowList {
  origins: readonly string[];
  /** Exact file:// URLs (query and hash ignored). */
  files: readonly string[];
}

/**
 * Content-Security-Policy of the local shell page (set in its <meta> tag; a test keeps the two
 * equal): its own script and style only, no network, no plugins, no forms. (frame-ancestors
 * is left out: browsers ignore it in a <meta> tag.)
 */
export const SHELL_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'none'; " +
  "base-uri 'none'; form-action 'none'; object-src 'none'";

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

function withoutSuffix(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** The origin of a hub URL in the form `URL.origin` gives, or null for anything but http(s). */
export function hubOrigin(url: string): string | null {
  const u = parse(url);
  return u && (u.protocol === 'http:' || u.protocol === 'https:') ? u.origin : null;
}

/** Whether `url` is on one of the hub's origins (any path, students' servers included). */
export function isHubOrigin(url: string, allow: AllowList): boolean {
  const u = parse(url);
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password) return false;
  return allow.origins.some((o) => hubOrigin(o) === u.origin);
}

/** Whether the window may show `url`: a hub page (`/hub/…`) of an allowed origin, or an allowed file. */
export function isAllowedNavigation(url: string, allow: AllowList): boolean {
  const u = parse(url);
  if (!u) return false;
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    return isHubOrigin(url, allow) && (u.pathname === '/hub' || u.pathname.startsWith('/hub/'));
  }
  if (u.protocol === 'file:') {
    return allow.files.some((f) => {
      const a = parse(f);
      return a !== null && a.protocol === 'file:' && withoutSuffix(a) === withoutSuffix(u);
    });
  }
  return false;
}

/** Whether an IPC message from a frame showing `url` is from one of our pages. */
export function isTrustedSender(url: string, allow: AllowList): boolean {
  return isAllowedNavigation(url, allow);
}

/**
 * The decision for a new window or a navigation the window may not make: never a new Electron
 * window; a URL of the hub's origin (e.g. a student's server) opens in the system browser,
 * anything else is dropped.
 */
export function windowOpenDecision(url: string, allow: AllowList): { action: 'deny'; openExternal: string | null } {
  return { action: 'deny', openExternal: isHubOrigin(url, allow) ? new URL(url).href : null };
}

/** Permissions granted to pages (camera, notifications, geolocation, …): none. */
export const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set();

/** The permission handlers' decision. */
export function isPermissionAllowed(permission: string): boolean {
  return ALLOWED_PERMISSIONS.has(permission);
}

/**
 * Attaches the rules to a window's contents and its session (Electron only; not run in tests).
 * `allow` is read on every decision, so the caller may add a hub origin once it is known.
 */
export function installSecurity(
  contents: WebContents,
  session: Session,
  allow: () => AllowList,
  openExternal: (url: string) => void,
  labCa: string | null = null,
): void {
  contents.on('will-navigate', (event, url) => {
    if (isAllowedNavigation(url, allow())) return;
    event.preventDefault();
    const d = windowOpenDecision(url, allow());
    if (d.openExternal) openExternal(d.openExternal);
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAllowedNavigation(url, allow())) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    const d = windowOpenDecision(url, allow());
    if (d.openExternal) openExternal(d.openExternal);
    return { action: 'deny' };
  });
  session.setPermissionRequestHandler((_wc, permission, callback) => callback(isPermissionAllowed(permission)));
  session.setPermissionCheckHandler((_wc, permission) => isPermissionAllowed(permission));
  // a lab with its own CA: trust it for the hub's host only; everything else keeps Chromium's verdict
  if (labCa) {
    session.setCertificateVerifyProc((req, callback) => {
      if (req.errorCode === 0) return callback(-3);
      const hubHosts = allow().origins.map((o) => hubOrigin(o)).filter((o): o is string => o !== null).map((o) => new URL(o).hostname);
      callback(hubHosts.includes(req.hostname) && issuedByLabCa(req.certificate.data, labCa) ? 0 : -3);
    });
  }
}
