/**
 * Token generation and hashing in JupyterHub's format, so secrets are stored only as hashes:
 * `sha512:<rounds>:<salt>:<hex>` where the digest is SHA-512 over the salt string followed by the
 * token repeated `rounds` times (jupyterhub/utils.py hash_token). Generated tokens are 128 random
 * bits, so one round is enough; tokens supplied from outside get 16384.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** A JupyterHub-style API token: 32 lowercase hex characters (uuid4 hex). */
export function newApiToken(): string {
  return randomUUID().replace(/-/g, '');
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** An oauthlib-style token or code: 30 characters of [A-Za-z0-9]. */
export function newOAuthToken(): string {
  const bytes = randomBytes(60);
  let out = '';
  for (const b of bytes) {
    if (b < 248) out += ALNUM[b % 62];
    if (out.length === 30) return out;
  }
  return out + newOAuthToken().slice(0, 30 - out.length);
}

export function hashToken(token: string, rounds = 1, salt = randomBytes(8).toString('hex')): string {
  const h = createHash('sha512');
  h.update(salt);
  for (let i = 0; i < rounds; i++) h.update(token);
  return `sha512:${rounds}:${salt}:${h.digest('hex')}`;
}

export function verifyToken(token: string, stored: string): boolean {
  const [alg, roundsText, salt, digest] = stored.split(':');
  if (alg !== 'sha512' || !salt || !digest) return false;
  const rounds = Number(roundsText);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 1_000_000) return false;
  const again = hashToken(token, rounds, salt).split(':')[3]!;
  const a = Buffer.from(again, 'hex');
  const b = Buffer.from(digest, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** SHA-256 hex, for looking up high-entropy cookie values (sessions) by hash. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
