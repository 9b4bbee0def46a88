/** `labhub tls init` with the real Debian openssl: what it makes, and what re-running keeps. */
import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runTlsCommand } from '../../../hub/tls/command.js';
import { altNamesOf, canonicalIp, describeTlsInit, tlsInit, wantedNames } from '../../../hub/tls/init.js';
import { makeTlsDir, type TlsFixture } from '../../helpers/tls-fixtures.js';

const made: TlsFixture[] = [];
afterAll(() => {
  for (const f of made) f.remove();
});

async function fixture(hostnames: string[] = ['lab.example.org']): Promise<TlsFixture> {
  const f = await makeTlsDir({ hostnames });
  made.push(f);
  return f;
}

const cert = (path: string) => new X509Certificate(readFileSync(path));

describe('tls init', () => {
  it('makes a CA and a server certificate it signed, for the names and loopback, with private keys 0600', async () => {
    const f = await fixture();
    expect(f.caCreated).toBe(true);
    expect(f.issuedBecause).toBe('new CA');
    expect(statSync(f.caKey).mode & 0o777).toBe(0o600);
    expect(statSync(f.serverKey).mode & 0o777).toBe(0o600);
    expect(statSync(f.caCert).mode & 0o777).toBe(0o644);
    expect(statSync(f.serverCert).mode & 0o777).toBe(0o644);
    const ca = cert(f.caCert);
    const server = cert(f.serverCert);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkHost('lab.example.org')).toBe('lab.example.org');
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkHost('other.example.org')).toBeUndefined();
    // openssl itself agrees the chain is good for a TLS server
    expect(execFileSync('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', f.caCert, f.serverCert], { encoding: 'utf8' })).toContain(': OK');
    expect(new Date(server.validTo).getTime() - Date.now()).toBeGreaterThan(800 * 86_400_000);
    const text = describeTlsInit(f);
    expect(text).toContain(`created the lab's CA`);
    expect(text).toContain(`"cert": "${f.serverCert}"`);
  });

  it('keeps everything when run again, and re-issues only the server certificate when the names change', async () => {
    const f = await fixture();
    const caBefore = cert(f.caCert).fingerprint256;
    const serverBefore = cert(f.serverCert).serialNumber;
    const again = await tlsInit({ dir: f.dir, hostnames: ['lab.example.org'], machineIps: false });
    expect(again.caCreated).toBe(false);
    expect(again.issuedBecause).toBeNull();
    expect(cert(f.serverCert).serialNumber).toBe(serverBefore);

    const more = await tlsInit({ dir: f.dir, hostnames: ['lab.example.org', 'jupyter.school.example'], machineIps: false, ips: ['10.1.2.3'] });
    expect(more.issuedBecause).toBe('names changed');
    expect(cert(f.caCert).fingerprint256).toBe(caBefore);
    const server = cert(f.serverCert);
    expect(server.serialNumber).not.toBe(serverBefore);
    expect(server.checkHost('jupyter.school.example')).toBe('jupyter.school.example');
    expect(server.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(server.verify(cert(f.caCert).publicKey)).toBe(true);
  });

  it('re-issues a server certificate that is missing or expiring, never the CA', async () => {
    const f = await fixture();
    const caBefore = readFileSync(f.caCert, 'utf8');
    rmSync(f.serverKey);
    expect((await tlsInit({ dir: f.dir, hostnames: ['lab.example.org'], machineIps: false })).issuedBecause).toBe('missing');
    // 825-day certificates are "expiring" when renewal is wanted 900 days ahead
    expect((await tlsInit({ dir: f.dir, hostnames: ['lab.example.org'], machineIps: false, renewDays: 900 })).issuedBecause).toBe('expiring');
    expect(readFileSync(f.caCert, 'utf8')).toBe(caBefore);
  });

  it('works without the CA key until something must be signed, and never replaces that CA', async () => {
    const f = await fixture();
    rmSync(f.caKey);
    const kept = await tlsInit({ dir: f.dir, hostnames: ['lab.example.org'], machineIps: false });
    expect(kept).toMatchObject({ caCreated: false, issuedBecause: null });
    await expect(tlsInit({ dir: f.dir, hostnames: ['new.example.org'], machineIps: false })).rejects.toMatchObject({
      code: 'HUB_ERR_TLS',
      message: expect.stringContaining(`must be issued again (names changed), but the CA key ${f.caKey} is missing`),
    });
    expect(existsSync(f.caCert)).toBe(true);
    expect(existsSync(f.caKey)).toBe(false);
  });

  it('rejects bad names', async () => {
    const f = await fixture();
    expect(() => wantedNames({ dir: f.dir, hostnames: ['bad name;rm'] })).toThrow(/not a valid host name/);
    expect(() => wantedNames({ dir: f.dir, ips: ['300.1.1.1'] })).toThrow(/not an IP address/);
  });

  it('compares names and addresses canonically', () => {
    expect(canonicalIp('::1')).toBe('0:0:0:0:0:0:0:1');
    expect(canonicalIp('FD00::0002')).toBe('fd00:0:0:0:0:0:0:2');
    expect(canonicalIp('10.0.0.1')).toBe('10.0.0.1');
    const names = wantedNames({ dir: '/x', hostnames: ['Lab.Example.org.'], machineIps: false });
    expect(names.dns[0]).toBe('lab.example.org');
    expect(names.dns).toContain('localhost');
    expect(names.ips).toEqual(['127.0.0.1', '::1']);
  });

  it('has the command-line interface the installer calls', async () => {
    const f = await fixture();
    const out: string[] = [];
    const err: string[] = [];
    const code = await runTlsCommand(['init', '--dir', f.dir, '--hostname', 'lab.example.org', '--no-machine-ips'], (s) => out.push(s), (s) => err.push(s));
    expect(code).toBe(0);
    expect(out.join('')).toContain('kept the server certificate');
    expect(altNamesOf(cert(f.serverCert))).toContain('DNS:lab.example.org');
    expect(await runTlsCommand(['init'], () => undefined, (s) => err.push(s))).toBe(2);
    expect(await runTlsCommand(['init', '--dir', f.dir, '--bogus'], () => undefined, (s) => err.push(s))).toBe(2);
    expect(await runTlsCommand(['init', '--dir', f.dir, '--hostname', 'x y'], () => undefined, (s) => err.push(s))).toBe(2);
    expect(err.join('')).toContain('Usage: labhub tls init --dir DIR');
  });
});
