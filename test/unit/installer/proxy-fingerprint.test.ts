/**
 * installer/lib/fingerprint.mjs decides whether an upgrade restarts the proxy (which drops open
 * websockets): only when the code it runs, Node, or its part of the config changed. Run on a copy of
 * this build's dist/.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FINGERPRINT = join(ROOT, 'installer/lib/fingerprint.mjs');

describe('proxy fingerprint', () => {
  let prefix: string;
  let config: string;
  const fp = () => execFileSync(process.execPath, [FINGERPRINT, prefix, config], { encoding: 'utf8' }).trim();

  beforeAll(() => {
    prefix = mkdtempSync(join(tmpdir(), 'labhub-fp-'));
    cpSync(join(ROOT, 'dist/hub'), join(prefix, 'dist/hub'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(prefix, 'node_modules'));
    config = join(prefix, 'config.json');
    writeFileSync(config, JSON.stringify({ port: 8000, dataDir: '/var/lib/labhub' }));
  });
  afterAll(() => rmSync(prefix, { recursive: true, force: true }));

  it('stays the same when only the hub changed, and changes with the proxy code or its config', () => {
    const first = fp();
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(fp()).toBe(first);
    appendFileSync(join(prefix, 'dist/hub/pages/router.js'), '\n// a hub-only change\n');
    appendFileSync(join(prefix, 'dist/hub/cli.js'), '\n// the command dispatcher\n');
    writeFileSync(config, JSON.stringify({ port: 8000, dataDir: '/var/lib/labhub', culler: { idleTimeoutSeconds: 7200 } }));
    expect(fp()).toBe(first);

    appendFileSync(join(prefix, 'dist/hub/proxy/route-table.js'), '\n// a proxy change\n');
    const second = fp();
    expect(second).not.toBe(first);

    writeFileSync(config, JSON.stringify({ port: 8443, dataDir: '/var/lib/labhub', culler: { idleTimeoutSeconds: 7200 } }));
    expect(fp()).not.toBe(second);
  });
});
