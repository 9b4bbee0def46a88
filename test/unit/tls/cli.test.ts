/**
 * The built `labhub` command with `proxy.tls`: `labhub proxy` and `labhub serve` refuse unusable
 * TLS files with a message naming them, and a running `labhub proxy` takes a renewed certificate
 * on SIGHUP.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlsInit } from '../../../hub/tls/init.js';
import { freePort, LABHUB_MAIN } from '../../helpers/labhub-process.js';
import { makeTlsDir, type TlsFixture } from '../../helpers/tls-fixtures.js';

let tls: TlsFixture;
let work: string;
const killers: Array<() => void> = [];

beforeAll(async () => {
  tls = await makeTlsDir({ hostnames: ['one.example'] });
  work = mkdtempSync(join(tmpdir(), 'labhub-tls-cli-'));
});

afterAll(() => {
  for (const k of killers) k();
  tls?.remove();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function configWith(tlsConfig: Record<string, unknown>): Promise<string> {
  const file = join(work, `config-${Math.random().toString(36).slice(2)}.json`);
  const dataDir = mkdtempSync(join(work, 'data-'));
  writeFileSync(file, JSON.stringify({ ip: '127.0.0.1', port: await freePort(), dataDir, hub: { port: await freePort() }, proxy: { apiPort: await freePort(), tls: tlsConfig } }));
  return file;
}

function serial(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, servername, path: '/hub/health', ca: tls.caPem, agent: false }, (res) => {
      res.resume();
      resolve((res.socket as TLSSocket).getPeerX509Certificate()?.serialNumber ?? '');
    });
    req.on('error', reject);
  });
}

describe('labhub with proxy.tls', () => {
  it('refuses to start the proxy or serve with a key everyone can read, naming it', async () => {
    const key = join(work, 'open.key');
    copyFileSync(tls.serverKey, key);
    chmodSync(key, 0o644);
    const config = await configWith({ cert: tls.serverCert, key });
    for (const command of ['proxy', 'serve']) {
      const r = spawnSync(process.execPath, [LABHUB_MAIN, command, '--config', config], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, command).toBe(1);
      expect(r.stderr).toContain(`the TLS key ${key} is readable by every user`);
    }
  });

  it('exits 2 on a half-set proxy.tls', async () => {
    const config = await configWith({ cert: tls.serverCert });
    const r = spawnSync(process.execPath, [LABHUB_MAIN, 'proxy', '--config', config], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('proxy.tls.key: cert and key must be set together');
  });

  it('takes a renewed certificate on SIGHUP without restarting', async () => {
    const config = await configWith({ cert: tls.serverCert, key: tls.serverKey, caCert: tls.caCert });
    const port = (JSON.parse(readFileSync(config, 'utf8')) as { port: number }).port;
    const child = spawn(process.execPath, [LABHUB_MAIN, 'proxy', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    killers.push(() => child.kill('SIGKILL'));
    let out = '';
    const listening = new Promise<void>((resolve, reject) => {
      const on = (c: Buffer) => {
        out += c.toString();
        if (out.includes('proxy listening')) resolve();
      };
      child.stdout.on('data', on);
      child.stderr.on('data', on);
      child.once('exit', (code) => reject(new Error(`labhub proxy exited (${code}): ${out}`)));
    });
    await listening;
    const before = await serial(port, 'one.example');
    await tlsInit({ dir: tls.dir, hostnames: ['one.example', 'two.example'], machineIps: false });
    const reloaded = new Promise<void>((resolve) => {
      const on = (c: Buffer) => {
        if (c.toString().includes('TLS certificate reloaded')) resolve();
      };
      child.stdout.on('data', on);
      child.stderr.on('data', on);
    });
    child.kill('SIGHUP');
    await reloaded;
    expect(await serial(port, 'two.example')).not.toBe(before);
    expect(child.exitCode).toBeNull();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
