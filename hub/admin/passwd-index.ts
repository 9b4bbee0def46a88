/**
 * All Linux accounts at once (`getent passwd`, so LDAP/NSS accounts count too), for listing many
 * users without one lookup process per user. Cached for a few seconds; account changes made by
 * the hub invalidate it.
 */
import { execFile } from 'node:child_process';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  /** The first GECOS field: the person's full name. */
  fullName: string;
  home: string;
}

/** Parses `getent passwd` output (the passwd(5) format). */
export function parsePasswd(text: string): Map<string, PasswdEntry> {
  const out = new Map<string, PasswdEntry>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.set(f[0]!, { name: f[0]!, uid, gid, fullName: (f[4] ?? '').split(',')[0]!.trim(), home: f[5]! });
  }
  return out;
}

export class PasswdIndex {
  private cached: { at: number; value: Promise<Map<string, PasswdEntry>> } | null = null;

  constructor(private readonly ttlMs = 5000) {}

  get(): Promise<Map<string, PasswdEntry>> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > this.ttlMs) {
      const value = new Promise<Map<string, PasswdEntry>>((resolve, reject) =>
        execFile('getent', ['passwd'], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(parsePasswd(stdout)))),
      );
      this.cached = { at: now, value };
      value.catch(() => {
        if (this.cached?.value === value) this.cached = null;
      });
    }
    return this.cached.value;
  }

  /** Forget the cached list (after creating or removing accounts). */
  invalidate(): void {
    this.cached = null;
  }
}
