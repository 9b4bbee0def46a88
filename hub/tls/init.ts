/**
 * `labhub tls init`: a local certificate authority for the lab and a server certificate signed by
 * it, made with Debian's `openssl` (argv arrays, no shell; Node's crypto cannot sign
 * certificates). Students trust the CA once (downloaded from the login page) and then every
 * re-issued server certificate, so re-running is safe: the CA is kept, and the server certificate
 * is issued again only when it is missing, does not match its key or the CA, expires within
 * `renewDays`, or names other hosts/addresses than wanted.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { HubError } from '../errors.js';

export const CA_DAYS = 3650;
/** Apple's limit for any TLS server certificate, also one from a private CA. */
export const SERVER_DAYS = 825;
export const RENEW_DAYS = 30;

export interface TlsInitOptions {
  dir: string;
  /** DNS names besides `localhost` and this machine's host name. */
  hostnames?: string[];
  /** IP addresses besides loopback and (unless `machineIps` is false) this machine's. */
  ips?: string[];
  /** Add the addresses of this machine's network interfaces (default true). */
  machineIps?: boolean;
  renewDays?: number;
  openssl?: string;
  now?: number;
}

export interface TlsInitResult {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  caCreated: boolean;
  /** Why the server certificate was (re-)issued; null when it was kept. */
  issuedBecause: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  serverValidTo: string;
  caFingerprint: string;
}

function tlsError(message: string): HubError {
  return new HubError('HUB_ERR_TLS', message);
}

const HOST_RE = /^(?=.{1,253}$)(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Canonical text of an IP address (IPv6 expanded, no leading zeros) for comparisons. */
export function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head, tail] = ip.toLowerCase().split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}

/** Addresses of this machine's non-loopback interfaces (IPv6 link-local ones need a scope, so not those). */
export function machineAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || /^fe80:/i.test(a.address)) continue;
      out.push(a.address);
    }
  }
  return out;
}

/** The names and addresses the server certificate should carry. */
export function wantedNames(o: TlsInitOptions): { dns: string[]; ips: string[] } {
  const dns: string[] = [];
  for (const h of o.hostnames ?? []) {
    const name = h.toLowerCase().replace(/\.$/, '');
    if (!HOST_RE.test(name)) throw tlsError(`"${h}" is not a valid host name`);
    if (!dns.includes(name)) dns.push(name);
  }
  // this machine's own name only when it is a valid DNS name (some have underscores)
  for (const name of [osHostname().toLowerCase(), 'localhost']) {
    if (HOST_RE.test(name) && !dns.includes(name)) dns.push(name);
  }
  const ips: string[] = [];
  for (const ip of ['127.0.0.1', '::1', ...(o.machineIps === false ? [] : machineAddresses()), ...(o.ips ?? [])]) {
    if (isIP(ip) === 0) throw tlsError(`"${ip}" is not an IP address`);
    if (!ips.some((x) => canonicalIp(x) === canonicalIp(ip))) ips.push(ip);
  }
  return { dns, ips };
}

/** The DNS names and IPs in a certificate's subjectAltName, canonical, sorted. */
export function altNamesOf(cert: X509Certificate): string[] {
  const out: string[] = [];
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) out.push('DNS:' + part.slice(4).toLowerCase());
    else if (part.startsWith('IP Address:')) out.push('IP:' + canonicalIp(part.slice(11)));
  }
  return out.sort();
}

function run(openssl: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(openssl, args, { timeout: 60_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') reject(tlsError(`${openssl} was not found; install it (Debian/Ubuntu: apt-get install openssl)`));
      else reject(tlsError(`${openssl} ${args[0]} failed: ${String(stderr).trim() || err.message}`));
    });
  });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Why the existing server certificate must be issued again, or null when it can stay. */
function serverProblem(o: { cert: string; key: string; ca: X509Certificate; wanted: string[]; renewDays: number; now: number }): string | null {
  if (!existsSync(o.cert) || !existsSync(o.key)) return 'missing';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(o.cert));
    if (!cert.checkPrivateKey(createPrivateKey(readFileSync(o.key)))) return 'its key does not match';
  } catch {
    return 'unreadable';
  }
  if (!cert.verify(o.ca.publicKey)) return 'not signed by this CA';
  if (new Date(cert.validTo).getTime() - o.now < o.renewDays * 86_400_000) return 'expiring';
  const have = altNamesOf(cert).join(',');
  if (have !== [...o.wanted].sort().join(',')) return 'names changed';
  return null;
}

/** Makes or refreshes DIR/ca.crt, DIR/ca.key, DIR/server.crt, DIR/server.key (see the module comment). */
export async function tlsInit(o: TlsInitOptions): Promise<TlsInitResult> {
  const openssl = o.openssl ?? 'openssl';
  const now = o.now ?? Date.now();
  const { dns, ips } = wantedNames(o);
  const caCert = join(o.dir, 'ca.crt');
  const caKey = join(o.dir, 'ca.key');
  const serverCert = join(o.dir, 'server.crt');
  const serverKey = join(o.dir, 'server.key');
  mkdirSync(o.dir, { recursive: true, mode: 0o755 });
  const tmp = (name: string) => join(o.dir, `.${name}.${process.pid}.tmp`);
  // a key file exists with mode 0600 before openssl writes into it (it keeps the mode), so a key
  // is never readable by others, not even for a moment
  const privateFile = (name: string): string => {
    rmSync(tmp(name), { force: true });
    closeSync(openSync(tmp(name), 'wx', 0o600));
    return tmp(name);
  };
  const temps = ['ca.crt', 'ca.key', 'server.crt', 'server.key', 'server.csr', 'server.ext'].map(tmp);
  try {
    let caCreated = false;
    if (!existsSync(caCert) && existsSync(caKey)) {
      throw tlsError(`${caCert} is missing but ${caKey} exists; restore it, or remove both to make a new CA (students then have to trust the new one)`);
    }
    // the CA key may have been moved off the machine: fine as long as nothing needs signing
    const caKeyAway = existsSync(caCert) && !existsSync(caKey);
    if (!existsSync(caCert)) {
      const day = new Date(now).toISOString().slice(0, 10);
      await run(openssl, [
        'req', '-x509', ...EC_KEY, '-sha256', '-days', String(CA_DAYS),
        '-keyout', privateFile('ca.key'), '-out', tmp('ca.crt'),
        '-subj', `/O=LabHub/CN=LabHub local CA ${dns[0]} ${day}`,
        '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
        '-addext', 'subjectKeyIdentifier=hash',
      ]);
      chmodSync(tmp('ca.key'), 0o600);
      chmodSync(tmp('ca.crt'), 0o644);
      renameSync(tmp('ca.key'), caKey);
      renameSync(tmp('ca.crt'), caCert);
      caCreated = true;
    }
    let ca: X509Certificate;
    try {
      ca = new X509Certificate(readFileSync(caCert));
      if (!caKeyAway && !ca.checkPrivateKey(createPrivateKey(readFileSync(caKey)))) throw new Error('the CA key does not belong to the CA certificate');
    } catch (err) {
      throw tlsError(`the CA in ${o.dir} cannot be used: ${(err as Error).message}`);
    }
    if (!caKeyAway) chmodSync(caKey, 0o600);
    const wanted = [...dns.map((d) => 'DNS:' + d), ...ips.map((i) => 'IP:' + canonicalIp(i))];
    const issuedBecause = caCreated ? 'new CA' : serverProblem({ cert: serverCert, key: serverKey, ca, wanted, renewDays: o.renewDays ?? RENEW_DAYS, now });
    if (issuedBecause !== null && caKeyAway) {
      throw tlsError(`the server certificate must be issued again (${issuedBecause}), but the CA key ${caKey} is missing; put it back (mode 0600) and run this again`);
    }
    if (issuedBecause !== null) {
      const san = [...dns.map((d) => 'DNS:' + d), ...ips.map((i) => 'IP:' + i)].join(',');
      writeFileSync(
        tmp('server.ext'),
        [
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature',
          'extendedKeyUsage=serverAuth',
          `subjectAltName=${san}`,
          'subjectKeyIdentifier=hash',
          'authorityKeyIdentifier=keyid,issuer',
          '',
        ].join('\n'),
      );
      await run(openssl, ['req', '-new', ...EC_KEY, '-keyout', privateFile('server.key'), '-out', tmp('server.csr'), '-subj', `/O=LabHub/CN=${dns[0]}`]);
      await run(openssl, [
        'x509', '-req', '-in', tmp('server.csr'), '-CA', caCert, '-CAkey', caKey,
        '-set_serial', '0x' + randomBytes(16).toString('hex').replace(/^[89a-f]/, '7'),
        '-days', String(SERVER_DAYS), '-sha256', '-extfile', tmp('server.ext'), '-out', tmp('server.crt'),
      ]);
      chmodSync(tmp('server.key'), 0o600);
      chmodSync(tmp('server.crt'), 0o644);
      // key first: a proxy reloading between the two renames sees a mismatch and keeps the old pair
      renameSync(tmp('server.key'), serverKey);
      renameSync(tmp('server.crt'), serverCert);
    }
    const server = new X509Certificate(readFileSync(serverCert));
    return {
      caCert,
      caKey,
      serverCert,
      serverKey,
      caCreated,
      issuedBecause,
      dnsNames: dns,
      ipAddresses: ips,
      serverValidTo: new Date(server.validTo).toISOString(),
      caFingerprint: ca.fingerprint256,
    };
  } finally {
    for (const t of temps) rmSync(t, { force: true });
  }
}

/** What `labhub tls init` prints. */
export function describeTlsInit(r: TlsInitResult): string {
  const lines = [
    r.caCreated ? `created the lab's CA:       ${r.caCert} (key ${r.caKey}, mode 0600)` : `kept the lab's CA:          ${r.caCert}`,
    `  SHA-256 fingerprint: ${r.caFingerprint}`,
    r.issuedBecause === null
      ? `kept the server certificate: ${r.serverCert} (valid until ${r.serverValidTo})`
      : `issued the server certificate (${r.issuedBecause}): ${r.serverCert} (key ${r.serverKey}, valid until ${r.serverValidTo})`,
    `  names: ${r.dnsNames.join(', ')}`,
    `  addresses: ${r.ipAddresses.join(', ')}`,
    '',
    'Use it in the LabHub config (e.g. /etc/labhub/config.json):',
    `  "proxy": { "tls": { "cert": "${r.serverCert}", "key": "${r.serverKey}", "caCert": "${r.caCert}" } }`,
    'Students download the CA from the login page (/hub/ca.crt) and trust it once.',
  ];
  return lines.join('\n');
}
