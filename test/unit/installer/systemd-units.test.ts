/**
 * The systemd units install.sh puts in /etc/systemd/system. systemd is not PID 1 on this machine (nor
 * in the installer's test container), so they never run here: their content is checked, and
 * `systemd-analyze verify` (Debian's systemd package) checks their syntax and directives offline.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HUB_UNIT, PROXY_UNIT } from '../../../main/systemd.js';

const DIR = fileURLToPath(new URL('../../../installer/systemd/', import.meta.url));

/** Section → key → values (a key may repeat). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      out[section] ??= {};
      continue;
    }
    const i = line.indexOf('=');
    (out[section]![line.slice(0, i)] ??= []).push(line.slice(i + 1));
  }
  return out;
}

const hub = parseUnit(readFileSync(join(DIR, HUB_UNIT), 'utf8'));
const proxy = parseUnit(readFileSync(join(DIR, PROXY_UNIT), 'utf8'));

describe('the systemd units', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'labhub-units-'));
    try {
      execFileSync('sh', ['-c', 'command -v systemd-analyze']);
    } catch {
      execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null']);
    }
  }, 300_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('are the names the control app watches (main/systemd.ts)', () => {
    expect(hub.Service!.ExecStart).toEqual(['/opt/labhub/bin/labhub hub --config /etc/labhub/config.json']);
    expect(proxy.Service!.ExecStart).toEqual(['/opt/labhub/bin/labhub proxy --config /etc/labhub/config.json']);
  });

  it('restart on failure and start at boot', () => {
    for (const u of [hub, proxy]) {
      expect(u.Service!.Restart).toEqual(['always']);
      expect(u.Install!.WantedBy).toEqual(['multi-user.target']);
    }
  });

  it('the hub: students\' servers survive its restarts, and it may create accounts and write homes', () => {
    expect(hub.Service!.KillMode).toEqual(['process']);
    expect(hub.Service!.ProtectSystem).toEqual(['yes']); // /usr and /boot read-only; not "full" (/etc) nor "strict"
    expect(hub.Service!.PrivateTmp).toEqual(['no']);
    expect(hub.Service!.ProtectHome).toBeUndefined();
    expect(hub.Unit!.After!.join(' ')).toContain(PROXY_UNIT);
    expect(hub.Unit!.Wants!.join(' ')).toContain(PROXY_UNIT);
    expect(hub.Unit!.Requires).toBeUndefined(); // a proxy restart must not restart the hub
  });

  it('the proxy: fully sandboxed, writes only the data and log dirs', () => {
    expect(proxy.Service!).toMatchObject({
      ProtectSystem: ['strict'],
      ReadWritePaths: ['/var/lib/labhub /var/log/labhub'],
      PrivateTmp: ['yes'],
      ProtectHome: ['yes'],
      NoNewPrivileges: ['yes'],
    });
  });

  it('pass systemd-analyze verify', () => {
    // verify wants ExecStart to exist: point it at a stand-in
    const bin = join(tmp, 'labhub');
    writeFileSync(bin, '#!/bin/sh\n');
    chmodSync(bin, 0o755);
    for (const name of [HUB_UNIT, PROXY_UNIT]) {
      writeFileSync(join(tmp, name), readFileSync(join(DIR, name), 'utf8').replaceAll('/opt/labhub/bin/labhub', bin));
    }
    const r = spawnSync('systemd-analyze', ['verify', join(tmp, HUB_UNIT), join(tmp, PROXY_UNIT)], { encoding: 'utf8' });
    // warnings (an unknown key, a bad value) go to stderr even with exit code 0
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});
