/**
 * The control app and a lab that serves https with its own local CA (`labhub tls init`,
 * README "HTTPS"): the app trusts exactly that CA for the hub's address, in its own requests
 * (health checks, the tray's figures) and in its window, without trusting it for anything else
 * and without turning certificate checks off.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';

/** The lab's CA certificate (PEM) from `proxy.tls.caCert`, or null when none is configured or readable. */
export function readLabCa(caCertPath: string | null | undefined, read: (file: string) => string = (f) => readFileSync(f, 'utf8')): string | null {
  if (!caCertPath) return null;
  try {
    const pem = read(caCertPath);
    new X509Certificate(pem);
    return pem;
  } catch {
    return null;
  }
}

export interface LabResponse {
  status: number;
  body: string;
}

/**
 * GET (or another method) of `url` with a timeout; over https the system's CAs and, when given,
 * the lab's own CA are trusted. Redirects are not followed. Rejects on network errors and timeouts.
 */
export function labRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; timeoutMs?: number; ca?: string | null } = {},
): Promise<LabResponse> {
  const u = new URL(url);
  const https = u.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      u,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers,
        timeout: opts.timeoutMs ?? 5000,
        // the lab CA is added to (not instead of) the bundled roots: a public certificate still works
        ...(https && opts.ca ? { ca: [opts.ca, ...rootCertificates] } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${u.origin} within ${opts.timeoutMs ?? 5000} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Whether a server certificate (PEM, as Electron's certificate verifier gives it) was issued by the
 * lab's CA and is valid now. Only the direct issuer is accepted: `labhub tls init` signs server
 * certificates with the CA itself.
 */
export function issuedByLabCa(serverPem: string, caPem: string, now: Date = new Date()): boolean {
  try {
    const cert = new X509Certificate(serverPem);
    const ca = new X509Certificate(caPem);
    if (!ca.ca) return false;
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    return new Date(cert.validFrom) <= now && now <= new Date(cert.validTo);
  } catch {
    return false;
  }
}
