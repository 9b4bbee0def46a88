/**
 * The control app with a lab that serves https from its own CA (`labhub tls init`, real openssl):
 * its health checks and tray figures trust that CA (and still refuse a certificate from any other
 * CA), and the window's certificate check accepts exactly the lab's server certificate.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeHealth } from '../../../main/hub-health.js';
import { fetchHubSummary } from '../../../main/hub-client.js';
import { issuedByLabCa, labRequest, readLabCa } from '../../../main/lab-tls.js';
import { makeTlsDir, type TlsFixture } from '../../helpers/tls-fixtures.js';

let lab: TlsFixture;
let other: TlsFixture;
let server: Server;
let url: string;
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  lab = await makeTlsDir({ hostnames: ['labhub.test'] });
  other = await makeTlsDir({ hostnames: ['labhub.test'] });
  server = createServer({ cert: readFileSync(lab.serverCert), key: readFileSync(lab.serverKey) }, (req, res) => {
    seen.push(req.headers.authorization);
    if (req.url === '/hub/health') return void res.end('ok');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ hub: { version: '9.9' }, users: { total: 3, online: 1 }, servers: { running: 2, starting: 0, queued: 0 } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(() => {
  server?.close();
  lab?.remove();
  other?.remove();
});

describe('the control app and a lab-CA https hub', () => {
  it('reads the CA from proxy.tls.caCert, null when unset or not a certificate', () => {
    expect(readLabCa(lab.caCert)).toContain('BEGIN CERTIFICATE');
    expect(readLabCa(null)).toBeNull();
    expect(readLabCa('/nonexistent/ca.crt')).toBeNull();
    expect(readLabCa(lab.serverKey)).toBeNull();
  });

  it('health checks trust the lab CA, and only it', async () => {
    expect(await probeHealth(url, 3000, readLabCa(lab.caCert))).toBe('ready');
    // without the CA, or with another lab's, the certificate is refused: the hub counts as down
    expect(await probeHealth(url, 3000, null)).toBe('down');
    expect(await probeHealth(url, 3000, readLabCa(other.caCert))).toBe('down');
    await expect(labRequest(`${url}/hub/health`, { ca: readLabCa(other.caCert) })).rejects.toThrow(/certificate/i);
  });

  it('the tray figures come over https with the token in the header', async () => {
    const s = await fetchHubSummary({ url, token: 'secret-token' }, 3000, readLabCa(lab.caCert));
    expect(s).toEqual({ version: '9.9', users: { total: 3, online: 1 }, servers: { running: 2, starting: 0, queued: 0 } });
    expect(seen.at(-1)).toBe('token secret-token');
  });

  it("the window accepts the lab's server certificate only from the lab's CA", () => {
    const serverPem = readFileSync(lab.serverCert, 'utf8');
    expect(issuedByLabCa(serverPem, lab.caPem.toString())).toBe(true);
    expect(issuedByLabCa(serverPem, other.caPem.toString())).toBe(false);
    // a server certificate is no CA: it cannot vouch for another one
    expect(issuedByLabCa(readFileSync(other.serverCert, 'utf8'), serverPem)).toBe(false);
    // outside its validity period
    expect(issuedByLabCa(serverPem, lab.caPem.toString(), new Date('1999-01-01'))).toBe(false);
    expect(issuedByLabCa('not a certificate', lab.caPem.toString())).toBe(false);
  });
});
