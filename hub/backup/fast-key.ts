/**
 * Makes opening LabHub's own restic repository cheap. `restic init` protects the repository's
 * master key with scrypt tuned to take ~0.5 s of CPU, and every restic process pays that again
 * when it opens the repository: with one process per home that was most of a nightly run (50 homes
 * → 25 CPU-seconds before a single file is read). Key stretching protects guessable passwords; the
 * password LabHub generates is 256 random bits, which no amount of guessing reaches, so for that
 * password (and only for it) the key file is rewritten with light scrypt parameters.
 *
 * The key file format is restic's (doc/design.rst, "Keys, Encryption and MAC"): scrypt(password,
 * salt, N, r, p) gives a 32-byte AES-256 key and a Poly1305-AES key (k, r); `data` is
 * IV ‖ AES-256-CTR(master key JSON) ‖ Poly1305-AES MAC of the ciphertext. Only local repositories
 * are rewritten (the key file is replaced in `<repo>/keys/`); other backends keep restic's key.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** scrypt parameters for a 256-bit random password: stretching adds nothing, so keep it light. */
export const FAST_KDF = { N: 1024, r: 8, p: 1 } as const;

interface KeyFile {
  created: string;
  username: string;
  hostname: string;
  kdf: string;
  N: number;
  r: number;
  p: number;
  salt: string;
  data: string;
}

const P1305 = (1n << 130n) - 5n;

function le(buf: Uint8Array): bigint {
  let n = 0n;
  for (let i = buf.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(buf[i]!);
  return n;
}

/** One-time Poly1305 of `msg` with a 32-byte key (r ‖ s), as RFC 8439 §2.5. */
export function poly1305(msg: Uint8Array, key: Uint8Array): Buffer {
  const r = le(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = le(key.subarray(16, 32));
  let acc = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const block = msg.subarray(i, Math.min(i + 16, msg.length));
    acc = ((acc + le(block) + (1n << BigInt(8 * block.length))) * r) % P1305;
  }
  acc = (acc + s) & ((1n << 128n) - 1n);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++, acc >>= 8n) out[i] = Number(acc & 0xffn);
  return out;
}

/** restic's Poly1305-AES: r from the MAC key, s = AES-128_k(nonce). */
function resticMac(ciphertext: Uint8Array, nonce: Uint8Array, k: Uint8Array, r: Uint8Array): Buffer {
  const aes = createCipheriv('aes-128-ecb', k, null).setAutoPadding(false);
  const s = Buffer.concat([aes.update(nonce), aes.final()]);
  return poly1305(ciphertext, Buffer.concat([r, s]));
}

function scrypt(password: Buffer, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  const opts: ScryptOptions = { N, r, p, maxmem: 256 * N * r * p + 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(password, salt, 64, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

function split(userKey: Buffer) {
  return { enc: userKey.subarray(0, 32), k: userKey.subarray(32, 48), r: userKey.subarray(48, 64) };
}

/** The master key JSON inside a key file, or null when the password does not open it. */
export async function openKeyFile(key: KeyFile, password: Buffer): Promise<Buffer | null> {
  if (key.kdf !== 'scrypt') return null;
  const u = split(await scrypt(password, Buffer.from(key.salt, 'base64'), key.N, key.r, key.p));
  const data = Buffer.from(key.data, 'base64');
  if (data.length < 33) return null;
  const iv = data.subarray(0, 16);
  const ct = data.subarray(16, data.length - 16);
  const mac = data.subarray(data.length - 16);
  if (!timingSafeEqual(mac, resticMac(ct, iv, u.k, u.r))) return null;
  const d = createDecipheriv('aes-256-ctr', u.enc, iv);
  return Buffer.concat([d.update(ct), d.final()]);
}

/** A key file holding `masterKey` (restic's JSON) under `password` with the given scrypt parameters. */
export async function sealKeyFile(masterKey: Buffer, password: Buffer, kdf: { N: number; r: number; p: number } = FAST_KDF): Promise<KeyFile> {
  const salt = randomBytes(64);
  const u = split(await scrypt(password, salt, kdf.N, kdf.r, kdf.p));
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-ctr', u.enc, iv);
  const ct = Buffer.concat([c.update(masterKey), c.final()]);
  return {
    created: new Date().toISOString(),
    username: 'root',
    hostname: hostname(),
    kdf: 'scrypt',
    ...kdf,
    salt: salt.toString('base64'),
    data: Buffer.concat([iv, ct, resticMac(ct, iv, u.k, u.r)]).toString('base64'),
  };
}

/**
 * Replaces the key of a local repository that the password (a password file's content) opens with
 * a light-KDF key. Returns
 * false (and changes nothing) when the repository has other keys, the key is light already, or
 * the password does not open it. The new key file is written before the old one is removed, so an
 * interruption leaves a repository that still opens.
 */
export async function lightenRepositoryKey(repository: string, passwordFileContent: Buffer): Promise<boolean> {
  // restic reads a password file with surrounding white space trimmed
  const password = Buffer.from(passwordFileContent.toString('utf8').trim(), 'utf8');
  const dir = join(repository, 'keys');
  const names = await fs.readdir(dir);
  if (names.length !== 1) return false;
  const oldPath = join(dir, names[0]!);
  const key = JSON.parse(await fs.readFile(oldPath, 'utf8')) as KeyFile;
  if (key.N <= FAST_KDF.N && key.r <= FAST_KDF.r && key.p <= FAST_KDF.p) return false;
  const master = await openKeyFile(key, password);
  if (!master) return false;
  const fresh = await sealKeyFile(master, password);
  // restic's own check on the way back: the new file must open to the same master key
  const check = await openKeyFile(fresh, password);
  if (!check || !check.equals(master)) throw new Error('could not re-seal the repository key');
  const body = Buffer.from(JSON.stringify(fresh));
  const name = createHash('sha256').update(body).digest('hex');
  const tmp = join(dir, `.${name}.tmp`);
  await fs.writeFile(tmp, body, { mode: 0o400 });
  await fs.rename(tmp, join(dir, name));
  await fs.unlink(oldPath);
  return true;
}
