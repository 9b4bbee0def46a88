import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAST_KDF, lightenRepositoryKey, openKeyFile, poly1305, sealKeyFile } from '../../../hub/backup/fast-key.js';

describe('poly1305', () => {
  it('matches the RFC 8439 §2.5.2 test vector', () => {
    const key = Buffer.from('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b', 'hex');
    expect(poly1305(Buffer.from('Cryptographic Forum Research Group'), key).toString('hex')).toBe('a8061dc1305136c6c22b8baf0c0127a9');
  });
});

describe('key files', () => {
  it('seals and opens a master key; a wrong password or a flipped bit does not open it', async () => {
    const master = Buffer.from('{"mac":{"k":"a","r":"b"},"encrypt":"c"}');
    const key = await sealKeyFile(master, Buffer.from('secret'));
    expect((await openKeyFile(key, Buffer.from('secret')))!.equals(master)).toBe(true);
    expect(await openKeyFile(key, Buffer.from('Secret'))).toBeNull();
    const data = Buffer.from(key.data, 'base64');
    data[20]! ^= 1;
    expect(await openKeyFile({ ...key, data: data.toString('base64') }, Buffer.from('secret'))).toBeNull();
  });
});

describe('lightenRepositoryKey with real restic', () => {
  it("rewrites the key of a fresh repository so restic still opens it, with LabHub's light parameters", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labhub-fastkey-'));
    const pw = join(dir, 'pw');
    writeFileSync(pw, `${'x'.repeat(43)}=\n`, { mode: 0o600 });
    const env = { ...process.env, RESTIC_REPOSITORY: join(dir, 'repo'), RESTIC_PASSWORD_FILE: pw, RESTIC_CACHE_DIR: join(dir, 'cache') };
    execFileSync('restic', ['init', '-q'], { env });
    const id = JSON.parse(execFileSync('restic', ['cat', 'config'], { env, encoding: 'utf8' })).id;
    expect(await lightenRepositoryKey(join(dir, 'repo'), readFileSync(pw))).toBe(true);
    const keys = readdirSync(join(dir, 'repo', 'keys'));
    expect(keys).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dir, 'repo', 'keys', keys[0]!), 'utf8'))).toMatchObject(FAST_KDF);
    expect(JSON.parse(execFileSync('restic', ['cat', 'config'], { env, encoding: 'utf8' })).id).toBe(id);
    // once light, nothing more to do; a wrong password changes nothing
    expect(await lightenRepositoryKey(join(dir, 'repo'), readFileSync(pw))).toBe(false);
    writeFileSync(pw + '2', 'wrong\n');
    expect(() => execFileSync('restic', ['cat', 'config'], { env: { ...env, RESTIC_PASSWORD_FILE: pw + '2' }, stdio: 'pipe' })).toThrow();
  });
});
