/**
 * Reads and checks the files of `proxy.tls` before anything listens, so a wrong file stops the
 * proxy with a message naming it instead of a TLS handshake failing in every student's browser:
 * readable, PEM, the key belongs to the certificate (Node's createSecureContext throws an opaque
 * "key values mismatch" otherwise) and the key is not readable by everyone.
 */
import { readFileSync, statSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createRequire } from 'node:module';
import type tls from 'node:tls';
import { HubError } from '../errors.js';

// loaded on first use, so a plain-http proxy never loads node:tls (see proxy/server.ts)
const requireBuiltin = createRequire(import.meta.url);

/** The paths of `proxy.tls` that matter here. */
export interface TlsPaths {
  cert: string;
  key: string;
  caCert?: string;
}

/** What the proxy listens with, plus a summary for the start-up log. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  summary: {
    subject: string;
    altNames: string;
    issuer: string;
    validTo: string;
    /** Whole days until expiry (negative once expired). */
    daysLeft: number;
  };
}

function tlsError(message: string, cause?: unknown): HubError {
  return new HubError('HUB_ERR_TLS', message, cause === undefined ? undefined : { cause });
}

function readPem(path: string, what: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw tlsError(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`, err);
  }
  if (!data.includes('-----BEGIN ')) throw tlsError(`the TLS ${what} ${path} is not a PEM file`);
  return data;
}

/** Parses the first certificate of a PEM file (the leaf of a chain). */
export function firstCertificate(pem: Buffer, path: string, what = 'certificate'): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw tlsError(`the TLS ${what} ${path} does not hold a PEM certificate: ${(err as Error).message}`, err);
  }
}

/**
 * Reads `cert` and `key` (and checks `caCert` when given); throws HubError `HUB_ERR_TLS` naming
 * the file at fault. `now` is for tests.
 */
export function loadTlsFiles(paths: TlsPaths, now = Date.now()): TlsMaterial {
  const cert = readPem(paths.cert, 'certificate');
  const key = readPem(paths.key, 'key');
  const mode = statSync(paths.key).mode;
  if ((mode & 0o004) !== 0) {
    throw tlsError(`the TLS key ${paths.key} is readable by every user (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${paths.key}`);
  }
  const x509 = firstCertificate(cert, paths.cert);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw tlsError(`the TLS key ${paths.key} is not a usable unencrypted PEM private key: ${(err as Error).message}`, err);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw tlsError(`the TLS key ${paths.key} does not belong to the certificate ${paths.cert}`);
  }
  try {
    (requireBuiltin('node:tls') as typeof tls).createSecureContext({ cert, key });
  } catch (err) {
    throw tlsError(`the TLS certificate ${paths.cert} and key ${paths.key} cannot be used together: ${(err as Error).message}`, err);
  }
  if (paths.caCert) firstCertificate(readPem(paths.caCert, 'CA certificate'), paths.caCert, 'CA certificate');
  const validTo = new Date(x509.validTo);
  return {
    cert,
    key,
    summary: {
      subject: x509.subject.replace(/\n/g, ', '),
      altNames: x509.subjectAltName ?? '',
      issuer: x509.issuer.replace(/\n/g, ', '),
      validTo: validTo.toISOString(),
      daysLeft: Math.floor((validTo.getTime() - now) / 86_400_000),
    },
  };
}
