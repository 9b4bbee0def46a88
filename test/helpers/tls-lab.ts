/**
 * HTTPS end-to-end helpers: `labhub serve` with `proxy.tls` (a LabhubProcess whose public URL is
 * https://localhost:<port>, checked with the lab's CA), and a Chromium profile that trusts that CA
 * for real: a temporary HOME with an NSS database (`certutil`, Debian libnss3-tools) where the
 * CA is a trusted authority, as a student's browser is after importing it from the login page.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabhubProcess, type LabhubOptions } from './labhub-process.js';

/** Installs Debian packages the TLS tests need when a command is missing (CI machines are fresh). */
export function ensureDebianPackages(wanted: Array<{ command: string; pkg: string }>): void {
  const missing = wanted.filter((w) => !existsSync(w.command)).map((w) => w.pkg);
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, stdio: 'ignore' });
}

/** A HOME whose NSS database (what Chromium on Linux uses) trusts `caCertFile` for web sites. */
export function homeTrustingCa(caCertFile: string): string {
  ensureDebianPackages([{ command: '/usr/bin/certutil', pkg: 'libnss3-tools' }]);
  const home = mkdtempSync(join(tmpdir(), 'labhub-browser-home-'));
  const db = join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true, mode: 0o700 });
  execFileSync('certutil', ['-d', `sql:${db}`, '-N', '--empty-password']);
  execFileSync('certutil', ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', 'LabHub test CA', '-i', caCertFile]);
  return home;
}

/** `labhub serve` with https on its public port. */
export class TlsLab extends LabhubProcess {
  constructor(
    private readonly ca: Buffer,
    opts: LabhubOptions = {},
  ) {
    super(opts);
  }

  override get publicUrl(): string {
    return `https://localhost:${this.publicPort}`;
  }

  /** Waits until the hub answers through the TLS proxy, verifying the certificate with the lab's CA. */
  override async waitForHub(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.serve && this.serve.exitCode !== null) throw new Error(`labhub serve exited (${this.serve.exitCode}):\n${this.output()}`);
      const ok = await new Promise<boolean>((resolve) => {
        const req = https.get({ host: '127.0.0.1', servername: 'localhost', port: this.publicPort, path: '/hub/health', ca: this.ca, agent: false, timeout: 2000 }, (res) => {
          res.resume();
          resolve(res.statusCode === 200 && res.headers['x-jupyterhub-version'] !== undefined);
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`hub did not answer through the https proxy within ${timeoutMs} ms:\n${this.output()}`);
  }
}
