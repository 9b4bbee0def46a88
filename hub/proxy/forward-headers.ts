/**
 * Header rewriting for forwarded requests and relayed responses, on Node's flat `rawHeaders`
 * arrays (`[name, value, name, value, …]`), so no header object is ever built on the hot path.
 *
 * Requests: `Host` kept; hop-by-hop headers (RFC 9110 §7.6.1: `Connection` and the headers it
 * names, `Keep-Alive`, `Proxy-*`, `TE`, `Trailer`, `Upgrade` except on upgrades) dropped;
 * `Transfer-Encoding`/`Content-Length` kept (the body is re-framed the same way); `Expect` dropped;
 * `X-Forwarded-For/-Proto/-Port/-Host` replaced by what this proxy saw, unless the peer is a trusted
 * front proxy (`proxy.trustedProxies`: nginx or Apache terminating TLS), whose values are passed on
 * unchanged so the hub and Jupyter (Tornado reads the last entry) see the browser's address and
 * scheme; the hub's login cookie removed for non-hub targets.
 */

export const OTHER = 0;
export const HOP = 1;
const HOST = 2;
const COOKIE = 3;
export const UPGRADE = 4;
export const CONNECTION = 5;
export const CONTENT_LENGTH = 6;
export const TRANSFER_ENCODING = 7;
const XFF = 8;
const XF_HOST = 9;
const XF_PORT = 10;
const XF_PROTO = 11;

/** Classifies a header name, lowercasing only names whose length could be interesting. */
export function kindOf(name: string): number {
  switch (name.length) {
    case 2:
      return name.toLowerCase() === 'te' ? HOP : OTHER;
    case 4:
      return name.toLowerCase() === 'host' ? HOST : OTHER;
    case 6: {
      // Node's server has already answered `Expect: 100-continue` itself
      const l = name.toLowerCase();
      return l === 'cookie' ? COOKIE : l === 'expect' ? HOP : OTHER;
    }
    case 7: {
      const l = name.toLowerCase();
      return l === 'upgrade' ? UPGRADE : l === 'trailer' ? HOP : OTHER;
    }
    case 10: {
      const l = name.toLowerCase();
      return l === 'connection' ? CONNECTION : l === 'keep-alive' ? HOP : OTHER;
    }
    case 14:
      return name.toLowerCase() === 'content-length' ? CONTENT_LENGTH : OTHER;
    case 15:
      return name.toLowerCase() === 'x-forwarded-for' ? XFF : OTHER;
    case 16: {
      const l = name.toLowerCase();
      return l === 'x-forwarded-host' ? XF_HOST : l === 'x-forwarded-port' ? XF_PORT : l === 'proxy-connection' ? HOP : OTHER;
    }
    case 17: {
      const l = name.toLowerCase();
      return l === 'transfer-encoding' ? TRANSFER_ENCODING : l === 'x-forwarded-proto' ? XF_PROTO : OTHER;
    }
    case 18:
      return name.toLowerCase() === 'proxy-authenticate' ? HOP : OTHER;
    case 19:
      return name.toLowerCase() === 'proxy-authorization' ? HOP : OTHER;
    default:
      return OTHER;
  }
}

/** The cookie JupyterHub (and LabHub) keeps for the hub alone. */
export const HUB_COOKIE = 'jupyterhub-hub-login';

/** `Cookie` value without the hub's login cookie; '' when nothing is left. */
export function stripHubCookie(value: string): string {
  if (value.indexOf(HUB_COOKIE) === -1) return value;
  let out = '';
  for (const part of value.split(';')) {
    const pair = part.trim();
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq).trim();
    if (name === HUB_COOKIE) continue;
    out = out === '' ? pair : out + '; ' + pair;
  }
  return out;
}

/** Header names listed in a `Connection` value that are not the usual keep-alive/close/upgrade. */
function connectionListed(value: string | undefined): Set<string> | null {
  if (value === undefined) return null;
  let set: Set<string> | null = null;
  for (const token of value.split(',')) {
    const t = token.trim().toLowerCase();
    if (t === '' || t === 'keep-alive' || t === 'close' || t === 'upgrade') continue;
    (set ??= new Set()).add(t);
  }
  return set;
}

function withoutListed(headers: string[], listed: Set<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!listed.has(headers[i].toLowerCase())) out.push(headers[i], headers[i + 1]);
  }
  return out;
}

/** Port the client connected to, from `Host` (what http-proxy reports as X-Forwarded-Port). */
function portOfHost(host: string, proto: string): string {
  const colon = host.lastIndexOf(':');
  if (colon !== -1 && host.indexOf(']', colon) === -1) return host.slice(colon + 1);
  return proto === 'https' ? '443' : '80';
}

/** What forwarding needs to know besides the new header list. */
export interface ForwardedRequestHeaders {
  headers: string[];
  /** The request has a body to stream (Content-Length > 0 or Transfer-Encoding). */
  hasBody: boolean;
  /** The body is sent with Transfer-Encoding (re-chunked on the way up). */
  chunked: boolean;
  /** Client's Host header ('' when absent). */
  host: string;
}

/**
 * Builds the upstream header list from the client's raw headers.
 * `upgrade` keeps `Connection: Upgrade` and `Upgrade` for websocket handshakes; `trusted` (the
 * peer is a configured front proxy) keeps its X-Forwarded-* instead of replacing them.
 */
export function forwardRequestHeaders(
  raw: string[],
  remoteAddress: string,
  proto: string,
  stripCookie: boolean,
  upgrade: boolean,
  trusted = false,
): ForwardedRequestHeaders {
  const out: string[] = [];
  let host = '';
  let xff: string | undefined;
  let xfPort: string | undefined;
  let xfProto: string | undefined;
  let xfHost: string | undefined;
  let connection: string | undefined;
  let upgradeValue: string | undefined;
  let hasBody = false;
  let chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    switch (kindOf(name)) {
      case OTHER:
        out.push(name, value);
        break;
      case HOST:
        host = value;
        out.push(name, value);
        break;
      case COOKIE:
        if (stripCookie) {
          const kept = stripHubCookie(value);
          if (kept !== '') out.push(name, kept);
        } else out.push(name, value);
        break;
      case CONTENT_LENGTH:
        if (value !== '0') hasBody = true;
        out.push(name, value);
        break;
      case TRANSFER_ENCODING:
        hasBody = true;
        chunked = true;
        out.push(name, value);
        break;
      case CONNECTION:
        connection = connection === undefined ? value : connection + ', ' + value;
        break;
      case UPGRADE:
        upgradeValue = value;
        break;
      case XFF:
        xff = xff === undefined ? value : xff + ', ' + value;
        break;
      case XF_PORT:
        xfPort = value;
        break;
      case XF_PROTO:
        xfProto = value;
        break;
      case XF_HOST:
        xfHost = value;
        break;
      default: // HOP
        break;
    }
  }
  if (upgrade && upgradeValue !== undefined) out.push('Connection', 'Upgrade', 'Upgrade', upgradeValue);
  if (trusted) {
    out.push(
      'X-Forwarded-For',
      xff ?? remoteAddress,
      'X-Forwarded-Proto',
      xfProto ?? proto,
      'X-Forwarded-Port',
      xfPort ?? portOfHost(host, xfProto ?? proto),
    );
    if (xfHost !== undefined) out.push('X-Forwarded-Host', xfHost);
    else if (host !== '') out.push('X-Forwarded-Host', host);
  } else {
    out.push('X-Forwarded-For', remoteAddress, 'X-Forwarded-Proto', proto, 'X-Forwarded-Port', portOfHost(host, proto));
    if (host !== '') out.push('X-Forwarded-Host', host);
  }
  const listed = connectionListed(connection);
  return { headers: listed === null ? out : withoutListed(out, listed), hasBody, chunked, host };
}

/**
 * The upstream response's headers for the client: hop-by-hop headers dropped (Node's server adds
 * its own `Connection`/`Keep-Alive` and re-frames the body), everything else in order.
 */
export function forwardResponseHeaders(raw: string[]): string[] {
  const out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    switch (kindOf(name)) {
      case CONNECTION:
        connection = raw[i + 1];
        break;
      case HOP:
      case UPGRADE:
      case TRANSFER_ENCODING:
        break;
      default:
        out.push(name, raw[i + 1]);
    }
  }
  const listed = connectionListed(connection);
  return listed === null ? out : withoutListed(out, listed);
}
