/**
 * The shared secret of the proxy's control API (`Authorization: token <secret>`, as with CHP's
 * CONFIGPROXY_AUTH_TOKEN). It travels by environment or a 0600 file, never argv, and is never
 * logged. The hub and the proxy read the same file, so `labhub serve` needs no hand-off.
 * Synchronous: it runs once at start, before anything listens.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const PROXY_TOKEN_ENV = 'LABHUB_PROXY_AUTH_TOKEN';
export const PROXY_TOKEN_FILE = 'proxy-token';

/**
 * Returns the token: `LABHUB_PROXY_AUTH_TOKEN` when set, else the content of
 * `<dataDir>/proxy-token`, creating it (32 random bytes as hex, mode 0600, written atomically)
 * and the data dir (0700) when missing. Two processes racing to create it get the same token.
 */
export function loadOrCreateProxyToken(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[PROXY_TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.trim();
  const file = join(dataDir, PROXY_TOKEN_FILE);
  const existing = readToken(file);
  if (existing !== null) return existing;

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tmp = join(dataDir, `.${PROXY_TOKEN_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, randomBytes(32).toString('hex') + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    // link() fails when another process created the file meanwhile: then theirs wins
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  const stored = readToken(file);
  if (stored === null) throw new Error(`the proxy token file ${file} is empty; remove it to have a new one made`);
  return stored;
}

function readToken(file: string): string | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const token = text.trim();
  return token === '' ? null : token;
}
