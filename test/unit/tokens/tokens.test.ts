import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashToken, newApiToken, newOAuthToken, verifyToken } from '../../../hub/tokens/hash.js';
import { hasScope, serverTokenScopes } from '../../../hub/tokens/scopes.js';
import { TokenStore } from '../../../hub/tokens/token-store.js';
import { Store } from '../../../hub/store/store.js';

describe('token hashing (JupyterHub format)', () => {
  it('makes 32-hex API tokens and 30-char alphanumeric OAuth tokens', () => {
    expect(newApiToken()).toMatch(/^[0-9a-f]{32}$/);
    for (let i = 0; i < 50; i++) expect(newOAuthToken()).toMatch(/^[A-Za-z0-9]{30}$/);
  });

  it('hashes as sha512 over salt + token×rounds and verifies', () => {
    const stored = hashToken('abc', 3, '0011223344556677');
    const expected = createHash('sha512').update('0011223344556677').update('abc').update('abc').update('abc').digest('hex');
    expect(stored).toBe(`sha512:3:0011223344556677:${expected}`);
    expect(verifyToken('abc', stored)).toBe(true);
    expect(verifyToken('abd', stored)).toBe(false);
    expect(verifyToken('abc', 'md5:1:aa:bb')).toBe(false);
  });
});

describe('TokenStore', () => {
  it('stores only hashes, finds by token, honours expiry and revocation', async () => {
    const store = await Store.open(mkdtempSync(join(tmpdir(), 'labhub-tok-')));
    const tokens = new TokenStore(store);
    const { token, record } = tokens.create({ user: 'alice', kind: 'api_token', scopes: ['read:users'] });
    expect(JSON.stringify(store.data)).not.toContain(token);
    expect(record.id).toBe('a1');
    expect(tokens.find(token)?.user).toBe('alice');
    expect(tokens.find(token.replace(/.$/, (c) => (c === '0' ? '1' : '0')))).toBeNull();
    const expiring = tokens.create({ user: 'bob', kind: 'oauth', scopes: [], expiresInSeconds: 1 });
    expiring.record.expiresAt = new Date(Date.now() - 1000).toISOString();
    expect(tokens.find(expiring.token)).toBeNull();
    tokens.revoke(record.id);
    expect(tokens.find(token)).toBeNull();
    await store.close();
  });
});

describe('scopes', () => {
  it('matches unfiltered, user and server filters only for the right user', () => {
    const s = serverTokenScopes('alice');
    expect(hasScope(s, 'users:activity', 'alice')).toBe(true);
    expect(hasScope(s, 'users:activity', 'bob')).toBe(false);
    expect(hasScope(['access:servers!server=alice/'], 'access:servers', 'alice', '')).toBe(true);
    expect(hasScope(['access:servers!server=alice/'], 'access:servers', 'bob', '')).toBe(false);
    expect(hasScope(['access:servers'], 'access:servers', 'anyone')).toBe(true);
    expect(hasScope(['access:servers!user=alicex'], 'access:servers', 'alice')).toBe(false);
  });
});
