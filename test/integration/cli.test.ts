/** The `labhub` command as a user runs it: help, exit codes, invalid config, damaged state. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LABHUB_MAIN } from '../helpers/labhub-process.js';

const labhub = (...args: string[]) => spawnSync(process.execPath, [LABHUB_MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('labhub command', () => {
  it('prints help and version', () => {
    const help = labhub('--help');
    expect(help.status).toBe(0);
    for (const cmd of ['serve', 'hub', 'proxy', '--config', '--data-dir', '--port', '--ip']) expect(help.stdout).toContain(cmd);
    expect(labhub('--version').stdout).toMatch(/^labhub \d+\.\d+\.\d+/);
  });

  it('exits 2 for an unknown command or flag', () => {
    const r1 = labhub('frobnicate');
    expect(r1.status).toBe(2);
    expect(r1.stderr).toContain('unknown command "frobnicate"');
    const r2 = labhub('serve', '--no-such-flag');
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/no-such-flag/);
    expect(labhub('serve', '--port', 'abc').status).toBe(2);
  });

  it('exits 2 listing every problem of an invalid config with its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'labhub-cli-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ port: 99999, auth: { minUid: 'x', adminUsers: ['Not Valid'] }, spawner: { cmd: [] }, typo: true }));
    const r = labhub('serve', '--config', file);
    expect(r.status).toBe(2);
    for (const path of ['port:', 'auth.minUid:', 'auth.adminUsers.0:', 'spawner.cmd:', 'typo']) expect(r.stderr).toContain(path);
    expect(r.stderr).toContain(file);
  });

  it('refuses to start on a damaged state file, names the backup, and leaves it untouched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'labhub-cli-'));
    const data = join(dir, 'data');
    mkdirSync(data, { mode: 0o700 });
    writeFileSync(join(data, 'state.json'), '{"users": {"alice"', { mode: 0o600 });
    writeFileSync(join(data, 'state.json.bak'), '{}', { mode: 0o600 });
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ ip: '127.0.0.1', port: 0, dataDir: data, hub: { port: 0 }, proxy: { apiPort: 0 } }));
    const r = labhub('hub', '--config', config);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('is damaged');
    expect(r.stderr).toContain(`${join(data, 'state.json')}.bak`);
    expect(readFileSync(join(data, 'state.json'), 'utf8')).toBe('{"users": {"alice"');
  });
});
