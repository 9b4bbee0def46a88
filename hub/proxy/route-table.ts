/**
 * The proxy's routing table: longest-prefix match on whole path segments, as
 * configurable-http-proxy does, but on the *raw* request path (never percent-decoded, so
 * `/user/alice%2Fbob/` can never match `/user/bob/`).
 *
 * Prefixes are kept in one canonical form, with a leading and a trailing slash (`/`,
 * `/user/alice/`); `/user/alice` and `/user/alice/` name the same route. A prefix matches the path
 * that equals it without its trailing slash too (`/user/alice`), like CHP's segment trie.
 */
import type { Route, RouteData } from './types.js';

/** One route as the hot path sees it; `lastActivity` is epoch ms (0 = never). */
export interface RouteEntry {
  readonly prefix: string;
  readonly target: string;
  /** host and port parsed from `target` once, so forwarding does no URL parsing. */
  readonly host: string;
  readonly port: number;
  readonly data: RouteData;
  /** `data.hub === true`: the hub's own route (keeps the hub cookie, no Origin check). */
  readonly hub: boolean;
  lastActivity: number;
}

/** Raised for a prefix or target the table will not accept; the control API answers 400. */
export class RouteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouteError';
  }
}

/**
 * Canonical form of a route prefix: leading and trailing slash, no query, no dot-segments,
 * no empty segments. Throws RouteError for anything else.
 */
export function canonicalPrefix(prefix: string): string {
  let p = prefix;
  if (!p.startsWith('/')) p = '/' + p;
  if (!p.endsWith('/')) p += '/';
  if (p.length > 1024) throw new RouteError('route prefix is too long');
  // eslint-disable-next-line no-control-regex
  if (/[\s?#\\\u0000-\u001f\u007f]/.test(p)) throw new RouteError(`invalid route prefix ${JSON.stringify(prefix)}`);
  if (p !== '/') {
    const segments = p.slice(1, -1).split('/');
    for (const seg of segments) {
      const decoded = seg.replace(/%2e/gi, '.');
      if (seg === '' || decoded === '.' || decoded === '..') {
        throw new RouteError(`invalid route prefix ${JSON.stringify(prefix)}`);
      }
    }
  }
  return p;
}

/** Parses a target `http://host:port` (a trailing slash is allowed; no path, query or credentials). */
export function parseTarget(target: string): { target: string; host: string; port: number } {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new RouteError(`invalid target ${JSON.stringify(target)}: not a URL`);
  }
  if (url.protocol !== 'http:') throw new RouteError(`invalid target ${JSON.stringify(target)}: only http:// targets are supported`);
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw new RouteError(`invalid target ${JSON.stringify(target)}: must be scheme, host and port only`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : 80;
  return { target: `http://${url.host}`, host, port };
}

function depthOf(prefix: string): number {
  let n = 0;
  for (let i = 1; i < prefix.length; i++) if (prefix.charCodeAt(i) === 47) n++;
  return n;
}

/** The routing table; `match` is the per-request hot path, everything else is control-plane. */
export class RouteTable {
  private readonly entries = new Map<string, RouteEntry>();
  /** Segments in the deepest prefix: matching never looks deeper than this. */
  private maxDepth = 0;
  private hub: RouteEntry | undefined;
  private readonly listeners: Array<() => void> = [];

  /** Adds or replaces a route. Activity is carried over when the target is unchanged. */
  set(prefix: string, target: string, data: RouteData = {}, lastActivity?: string | number | null): Route {
    const key = canonicalPrefix(prefix);
    const parsed = parseTarget(target);
    const cleanData: RouteData = { ...data };
    delete cleanData.target;
    delete cleanData.last_activity;
    const old = this.entries.get(key);
    let activity = 0;
    if (typeof lastActivity === 'number') activity = lastActivity;
    else if (typeof lastActivity === 'string') activity = Date.parse(lastActivity) || 0;
    else if (old && old.target === parsed.target) activity = old.lastActivity;
    const entry: RouteEntry = {
      prefix: key,
      target: parsed.target,
      host: parsed.host,
      port: parsed.port,
      data: cleanData,
      hub: cleanData.hub === true,
      lastActivity: activity,
    };
    this.entries.set(key, entry);
    this.reindex();
    this.changed();
    return toRoute(entry);
  }

  /** Removes a route; false when there was none. */
  delete(prefix: string): boolean {
    const key = canonicalPrefix(prefix);
    const had = this.entries.delete(key);
    if (had) {
      this.reindex();
      this.changed();
    }
    return had;
  }

  get(prefix: string): Route | undefined {
    const entry = this.entries.get(canonicalPrefix(prefix));
    return entry && toRoute(entry);
  }

  /** The entry itself (for activity updates and tests). */
  entry(prefix: string): RouteEntry | undefined {
    return this.entries.get(canonicalPrefix(prefix));
  }

  get size(): number {
    return this.entries.size;
  }

  /** The hub's route (`data.hub === true`, the shortest such prefix), used for its error pages. */
  hubEntry(): RouteEntry | undefined {
    return this.hub;
  }

  /** Every route, keyed by canonical prefix. */
  all(): Record<string, Route> {
    const out: Record<string, Route> = {};
    for (const [key, entry] of this.entries) out[key] = toRoute(entry);
    return out;
  }

  /** Called after every change (for persistence); never on activity updates. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * The route for a raw request path (starting with `/`, without query), longest prefix first.
   * Allocates only the candidate prefix strings, at most `maxDepth + 1` of them.
   */
  match(path: string): RouteEntry | undefined {
    const entries = this.entries;
    const max = this.maxDepth;
    // positions of the slashes that end segments 1..max
    const ends = SLASHES;
    let depth = 0;
    let end = 0;
    while (depth < max) {
      const next = path.indexOf('/', end + 1);
      if (next === -1) break;
      end = next;
      ends[++depth] = end;
    }
    // a last segment without its slash (`/user/alice`) matches the prefix `/user/alice/`
    if (depth < max && end + 1 < path.length) {
      const hit = entries.get(path + '/');
      if (hit !== undefined) return hit;
    }
    for (; depth > 0; depth--) {
      const hit = entries.get(path.slice(0, ends[depth] + 1));
      if (hit !== undefined) return hit;
    }
    return entries.get('/');
  }

  private reindex(): void {
    let max = 0;
    let hub: RouteEntry | undefined;
    for (const entry of this.entries.values()) {
      const d = depthOf(entry.prefix);
      if (d > max) max = d;
      if (entry.hub && (!hub || entry.prefix.length < hub.prefix.length)) hub = entry;
    }
    this.maxDepth = max;
    this.hub = hub;
    if (SLASHES.length <= max) SLASHES = new Int32Array(max + 8);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

let SLASHES = new Int32Array(16);

/** The JSON shape of a route (see types.ts). */
export function toRoute(entry: RouteEntry): Route {
  return {
    target: entry.target,
    data: { ...entry.data },
    last_activity: entry.lastActivity ? new Date(entry.lastActivity).toISOString() : null,
  };
}
