/** Start-up checks of `proxy.tls` (hub/tls/files.ts) and its config schema. */
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../hub/config.js';
import { loadTlsFiles } from '../../../hub/tls/files.js';
import { makeTlsDir, type TlsFixture } from '../../helpers/tls-fixtures.js';

let a: TlsFixture;
let b: TlsFixture;
beforeAll(async () => {
  [a, b] = await Promise.all([makeTlsDir(), makeTlsDir()]);
});
afterAll(() => {
  a?.remove();
  b?.remove();
});

function problemsOf(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadTlsFiles', () => {
  it('loads a matching pair and summarises the certificate', () => {
    const m = loadTlsFiles({ cert: a.serverCert, key: a.serverKey, caCert: a.caCert });
    expect(m.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(m.summary.altNames).toContain('DNS:localhost');
    expect(m.summary.issuer).toContain('LabHub local CA');
    expect(m.summary.daysLeft).toBeGreaterThan(800);
  });

  it('names the file at fault', () => {
    const missing = join(a.dir, 'nope.crt');
    expect(() => loadTlsFiles({ cert: missing, key: a.serverKey })).toThrow(`cannot read the TLS certificate ${missing}`);
    expect(() => loadTlsFiles({ cert: a.serverCert, key: b.serverKey })).toThrow(`the TLS key ${b.serverKey} does not belong to the certificate ${a.serverCert}`);
    const junk = join(a.dir, 'junk.pem');
    writeFileSync(junk, 'hello\n', { mode: 0o600 });
    expect(() => loadTlsFiles({ cert: junk, key: a.serverKey })).toThrow(`the TLS certificate ${junk} is not a PEM file`);
    expect(() => loadTlsFiles({ cert: a.serverCert, key: a.serverKey, caCert: a.serverKey })).toThrow(`the TLS CA certificate ${a.serverKey} does not hold a PEM certificate`);
    try {
      loadTlsFiles({ cert: a.serverCert, key: b.serverKey });
    } catch (err) {
      expect((err as { code?: string }).code).toBe('HUB_ERR_TLS');
    }
  });

  it('refuses a key everyone can read', () => {
    const key = join(a.dir, 'open.key');
    copyFileSync(a.serverKey, key);
    chmodSync(key, 0o644);
    expect(() => loadTlsFiles({ cert: a.serverCert, key })).toThrow(`the TLS key ${key} is readable by every user (mode 644); run: chmod 600 ${key}`);
    chmodSync(key, 0o640);
    expect(() => loadTlsFiles({ cert: a.serverCert, key })).not.toThrow();
  });
});

describe('proxy.tls config', () => {
  it('is off by default and takes the files of tls init', () => {
    const off = parseConfig({ dataDir: '/tmp/x' });
    expect(off.proxy.tls).toEqual({ cert: '', key: '', caCert: '', httpRedirectPort: 0 });
    expect(off.proxy.trustedProxies).toEqual([]);
    const on = parseConfig({ dataDir: '/tmp/x', proxy: { tls: { cert: '/etc/labhub/tls/server.crt', key: '/etc/labhub/tls/server.key', caCert: '/etc/labhub/tls/ca.crt', httpRedirectPort: 80 } } });
    expect(on.proxy.tls.httpRedirectPort).toBe(80);
  });

  it('wants cert and key together, and https for the redirect', () => {
    expect(problemsOf({ proxy: { tls: { cert: '/a.crt' } } })).toEqual(['proxy.tls.key: cert and key must be set together']);
    expect(problemsOf({ proxy: { tls: { key: '/a.key' } } })).toEqual(['proxy.tls.cert: cert and key must be set together']);
    expect(problemsOf({ proxy: { tls: { httpRedirectPort: 80 } } })).toEqual(['proxy.tls.httpRedirectPort: needs https here (cert and key); behind nginx or Apache, redirect there']);
    // behind a front proxy that terminates TLS, the CA can still be offered for download
    expect(problemsOf({ proxy: { tls: { caCert: '/etc/labhub/tls/ca.crt' } } })).toEqual([]);
    expect(problemsOf({ proxy: { tls: { cert: '/a', key: '/b', bogus: 1 } } })[0]).toMatch(/^proxy\.tls: .*bogus/);
    expect(problemsOf({ proxy: { tls: { cert: '/a', key: '/b', httpRedirectPort: 70000 } } })[0]).toMatch(/^proxy\.tls\.httpRedirectPort: /);
    expect(problemsOf({ proxy: { trustedProxies: ['127.0.0.1', '10.0.0.0/8'] } })).toEqual(['proxy.trustedProxies.1: must be an IP address (exact, no ranges)']);
  });
});
