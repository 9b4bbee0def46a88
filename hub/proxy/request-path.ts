/**
 * What part of a request target the proxy routes on, and which targets it refuses.
 *
 * Routing uses the raw path: nothing is decoded, so `%2F` stays part of its segment. A path with
 * dot-segments (`.`/`..`, also percent-encoded as `%2e`) is refused, because a client, cache or
 * upstream that resolves them would see a different path from the one that was routed:
 * `/user/alice/%2e%2e/bob/` carries alice's cookies (their path matches) and must never be
 * resolved into bob's server, and `/user/bob/../alice/` must not be routed to bob's.
 */

/** The outcome of `parseRequestTarget`: the path to route on and the request target to forward. */
export interface RequestTarget {
  /** Raw path, starting with `/`, without the query. */
  path: string;
  /** Origin-form target to send upstream (path and query, unchanged). */
  url: string;
}

/**
 * Splits a request target into its routing path and the URL to forward; null when the request
 * must be answered 400 (dot-segments, or not origin- or absolute-form).
 */
export function parseRequestTarget(rawUrl: string): RequestTarget | null {
  let url = rawUrl;
  if (url.charCodeAt(0) !== 47 /* / */) {
    url = absoluteToOrigin(url) ?? '';
    if (url === '') return null;
  }
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path.indexOf('/.') !== -1 || path.indexOf('%') !== -1) {
    if (hasDotSegment(path)) return null;
  }
  return { path, url };
}

/** True when some segment is `.` or `..`, spelled plainly or with `%2e`. */
export function hasDotSegment(path: string): boolean {
  let start = 1;
  const n = path.length;
  while (start <= n) {
    let end = path.indexOf('/', start);
    if (end === -1) end = n;
    const len = end - start;
    if (len === 1 || len === 2 || len === 3 || len === 4 || len === 6) {
      const seg = path.slice(start, end).replace(/%2e/gi, '.');
      if (seg === '.' || seg === '..') return true;
    }
    start = end + 1;
  }
  return false;
}

/** `http://host:port/p?q` → `/p?q`; null when it is not an absolute http(s) URL. */
function absoluteToOrigin(url: string): string | null {
  const lower = url.slice(0, 8).toLowerCase();
  const skip = lower.startsWith('http://') ? 7 : lower.startsWith('https://') ? 8 : -1;
  if (skip === -1) return null;
  const slash = url.indexOf('/', skip);
  const query = url.indexOf('?', skip);
  if (slash === -1 || (query !== -1 && query < slash)) return query === -1 ? '/' : '/' + url.slice(query);
  return url.slice(slash);
}
