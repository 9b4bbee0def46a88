import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AdminTokenError, readAdminToken } from '../../../main/admin-token.js';

const dir = mkdtempSync(join(tmpdir(), 'labhub-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readAdminToken', () => {
  it('reads the url and token the hub wrote', () => {
    writeFileSync(join(dir, 'cli-token'), JSON.stringify({ url: 'http://127.0.0.1:8081', token: 'abc' }), { mode: 0o600 });
    expect(readAdminToken(dir)).toEqual({ url: 'http://127.0.0.1:8081', token: 'abc' });
  });

  it('says the hub has not written it yet when it is missing', () => {
    const err = (() => {
      try {
        readAdminToken(join(dir, 'nope'));
      } catch (e) {
        return e as AdminTokenError;
      }
    })();
    expect(err).toBeInstanceOf(AdminTokenError);
    expect(err).toMatchObject({ reason: 'missing' });
    expect(err!.message).toMatch(/does not exist yet: the hub writes it when it starts/);
  });

  it('tells the user to join the admin group or run as root when it is not readable (EACCES simulated: tests run as root)', () => {
    chmodSync(join(dir, 'cli-token'), 0o600);
    const eacces = () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    expect(() => readAdminToken(dir, eacces)).toThrow(
      expect.objectContaining({ reason: 'forbidden', message: `cannot read ${join(dir, 'cli-token')}: run the app as a member of the LabHub admin group or as root` }),
    );
  });

  it('refuses a damaged file', () => {
    for (const text of ['not json', '{"url":"x"}', '{"url":"x","token":""}', 'null']) {
      expect(() => readAdminToken(dir, () => text)).toThrow(expect.objectContaining({ reason: 'damaged' }));
    }
  });
});
