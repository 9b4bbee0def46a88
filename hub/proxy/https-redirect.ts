/**
 * The plain-http listener of a TLS proxy (`proxy.tls.httpRedirectPort`): every request is sent to
 * the same host and path over https with a 308 (method and body kept, like 301 for GET). The one
 * exception is the lab's CA certificate at `/hub/ca.crt`, served here too, so a student can fetch
 * it before their browser trusts the https port (it is public; the login page shows its
 * fingerprint to compare).
 */
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import { CA_DOWNLOAD_PATH, CA_DOWNLOAD_TYPE } from '../tls/ca-download.js';

export interface RedirectOptions {
  /** The https port browsers use (443 is left out of the URL). */
  httpsPort: () => number;
  /** The CA certificate file to serve at /hub/ca.crt ('' = none). */
  caCert?: string;
}

/** The host name of a `Host` header, without port; null when it is not a plausible host. */
export function hostName(host: string | undefined): string | null {
  if (!host) return null;
  let name: string;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end === -1) return null;
    name = host.slice(0, end + 1);
  } else {
    const colon = host.indexOf(':');
    name = colon === -1 ? host : host.slice(0, colon);
  }
  // letters, digits, dots, dashes, and an IPv6 literal's brackets and colons: nothing that could
  // turn the Location into another URL
  return /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/.test(name) ? name : null;
}

/** The https URL for a request that came in over plain http. */
export function httpsLocation(host: string, port: number, url: string): string {
  const path = url.startsWith('/') ? url : '/';
  return `https://${host}${port === 443 ? '' : `:${port}`}${path}`;
}

/** Builds the redirect listener's `request` handler. */
export function createRedirectHandler(o: RedirectOptions): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    const url = req.url ?? '/';
    if (o.caCert && (req.method === 'GET' || req.method === 'HEAD') && url.split('?')[0] === CA_DOWNLOAD_PATH) {
      readFile(o.caCert).then(
        (pem) => {
          res.writeHead(200, {
            'Content-Type': CA_DOWNLOAD_TYPE,
            'Content-Disposition': 'attachment; filename="labhub-ca.crt"',
            'Content-Length': pem.length,
            'Cache-Control': 'no-cache',
          });
          res.end(req.method === 'HEAD' ? undefined : pem);
        },
        () => {
          res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end('No CA certificate is available.\n');
        },
      );
      return;
    }
    const host = hostName(req.headers.host);
    if (host === null) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
      res.end('This address only redirects to https; the request had no valid Host header.\n');
      return;
    }
    const location = httpsLocation(host, o.httpsPort(), url);
    res.writeHead(308, { Location: location, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' });
    res.end(`This lab server uses https: ${location}\n`);
  };
}
