/**
 * The lab's CA certificate for students' computers (`proxy.tls.caCert`): served publicly at
 * `/hub/ca.crt` and announced on the login page with its SHA-256 fingerprint, so a student can
 * compare it with the one the instructor shows before trusting it. Read again when the file
 * changes (a re-made CA), otherwise from memory: the login page is on the class-start hot path.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Request, Response } from 'express';

export const CA_DOWNLOAD_PATH = '/hub/ca.crt';
/** The type browsers offer to import as a certificate authority. */
export const CA_DOWNLOAD_TYPE = 'application/x-x509-ca-cert';

export interface CaInfo {
  pem: Buffer;
  fingerprint: string;
  subject: string;
}

export interface CaDownload {
  /** The certificate, or null when none is configured or it cannot be read. */
  info(): CaInfo | null;
  /** `GET /hub/ca.crt`: the PEM as `application/x-x509-ca-cert` (404 when there is none). */
  handler(req: Request, res: Response): void;
}

export function createCaDownload(path: string): CaDownload {
  let cached: { mtimeMs: number; size: number; info: CaInfo } | null = null;
  const info = (): CaInfo | null => {
    if (!path) return null;
    try {
      const st = statSync(path);
      if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.info;
      const pem = readFileSync(path);
      const x509 = new X509Certificate(pem);
      cached = { mtimeMs: st.mtimeMs, size: st.size, info: { pem, fingerprint: x509.fingerprint256, subject: x509.subject.replace(/\n/g, ', ') } };
      return cached.info;
    } catch {
      cached = null;
      return null;
    }
  };
  return {
    info,
    handler(_req, res) {
      const ca = info();
      if (!ca) {
        res.status(404).type('text/plain').send('This lab has no certificate authority to download.\n');
        return;
      }
      res
        .status(200)
        .set({
          'Content-Type': CA_DOWNLOAD_TYPE,
          'Content-Disposition': 'attachment; filename="labhub-ca.crt"',
          'Cache-Control': 'no-cache',
        })
        .send(ca.pem);
    },
  };
}
