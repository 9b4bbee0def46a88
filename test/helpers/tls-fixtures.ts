/**
 * Real certificates for TLS tests: `labhub tls init` (hub/tls/init.ts, Debian openssl) into a
 * temp dir. Only loopback names, so tests do not depend on this machine's addresses.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tlsInit, type TlsInitResult } from '../../hub/tls/init.js';

export interface TlsFixture extends TlsInitResult {
  dir: string;
  /** The CA certificate's PEM, for clients' `ca` option. */
  caPem: Buffer;
  remove(): void;
}

export async function makeTlsDir(o: { hostnames?: string[]; dir?: string } = {}): Promise<TlsFixture> {
  const dir = o.dir ?? join(mkdtempSync(join(tmpdir(), 'labhub-tls-')), 'tls');
  const r = await tlsInit({ dir, hostnames: o.hostnames ?? [], machineIps: false });
  const top = o.dir ?? join(dir, '..');
  return { ...r, dir, caPem: readFileSync(r.caCert), remove: () => rmSync(top, { recursive: true, force: true }) };
}
