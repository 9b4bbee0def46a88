import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateProxyToken, PROXY_TOKEN_ENV } from '../../../hub/proxy/secret.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'labhub-secret-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('loadOrCreateProxyToken', () => {
  it('creates a 0600 token file (and a 0700 data dir) once, then reuses it', () => {
    const dataDir = join(tempDir(), 'data');
    const token = loadOrCreateProxyToken(dataDir, {});
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dataDir, 'proxy-token')).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(loadOrCreateProxyToken(dataDir, {})).toBe(token);
    expect(readFileSync(join(dataDir, 'proxy-token'), 'utf8').trim()).toBe(token);
  });

  it('prefers the environment and writes nothing then', () => {
    const dataDir = tempDir();
    expect(loadOrCreateProxyToken(dataDir, { [PROXY_TOKEN_ENV]: ' from-env ' })).toBe('from-env');
    expect(() => statSync(join(dataDir, 'proxy-token'))).toThrow();
  });

  it('refuses an empty token file instead of silently replacing it', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'proxy-token'), '\n', { mode: 0o600 });
    expect(() => loadOrCreateProxyToken(dataDir, {})).toThrow(/empty/);
  });
});
