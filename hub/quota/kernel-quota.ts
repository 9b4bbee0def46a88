/**
 * Kernel disk quotas (the `enforced` mode): finding out whether the filesystem holding the homes
 * has user quotas on, setting a user's block limits and reading everyone's usage, with the quota
 * tools (`quotaon`/`repquota`/`setquota` from the quota package; `xfs_quota` for XFS). Commands
 * run as argv arrays, never through a shell; names are validated before they reach an argv.
 * The output parsers are tested against recorded output in test/fixtures/quota/.
 */
import { execFile } from 'node:child_process';

/** Runs a command; resolves with its stdout, rejects with stderr (or "not installed"). */
export type Runner = (cmd: string, args: readonly string[]) => Promise<string>;

export const runCommand: Runner = (cmd, args) =>
  new Promise((resolve, reject) =>
    execFile(cmd, [...args], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      const e = new Error(code === 'ENOENT' ? `${cmd}: not installed` : `${cmd}: ${String(stderr).trim() || err.message}`);
      reject(Object.assign(e, { stdout: String(stdout) }));
    }),
  );

/** The filesystem that holds a path, as `findmnt` reports it. */
export interface Filesystem {
  mount: string;
  source: string;
  type: string;
}

export async function filesystemOf(path: string, run: Runner = runCommand): Promise<Filesystem | null> {
  try {
    const out = await run('findmnt', ['-n', '-o', 'TARGET,SOURCE,FSTYPE', '-T', path]);
    const [mount, source, type] = out.trim().split(/\s+/);
    return mount && source && type ? { mount, source, type } : null;
  } catch {
    return null;
  }
}

/** One user's block usage and limits from a quota report (bytes; 0 = no limit). */
export interface QuotaReportRow {
  user: string;
  usedBytes: number;
  softBytes: number;
  hardBytes: number;
}

/**
 * `repquota -u -p <mount>` (or `-up`): a header, a `----` rule, then one line per user:
 * `alice     --    2048    4096    8192      0     12     0     0      0`. Blocks are 1 KiB.
 * A `+` in the two flag characters marks a user over a soft limit; the grace column is then
 * present (`-p` prints it as seconds, `none` or `0`).
 */
export function parseRepquota(text: string): QuotaReportRow[] {
  const rows: QuotaReportRow[] = [];
  for (const line of text.split('\n')) {
    const m = /^#?(\S+)\s+([-+]{2})\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(line);
    if (!m) continue;
    rows.push({ user: m[1]!, usedBytes: Number(m[3]) * 1024, softBytes: Number(m[4]) * 1024, hardBytes: Number(m[5]) * 1024 });
  }
  return rows;
}

/**
 * `repquota -u -O csv <mount>`: a header line
 * `User,BlockStatus,FileStatus,BlockUsed,BlockSoftLimit,BlockHardLimit,BlockGrace,FileUsed,…`
 * then one line per user; columns found by name (blocks are 1 KiB).
 */
export function parseRepquotaCsv(text: string): QuotaReportRow[] {
  const lines = text.split('\n').filter((l) => l.trim());
  const header = lines.shift()?.split(',').map((h) => h.trim()) ?? [];
  const col = (name: string) => header.indexOf(name);
  const [u, used, soft, hard] = [col('User'), col('BlockUsed'), col('BlockSoftLimit'), col('BlockHardLimit')];
  if ([u, used, soft, hard].some((i) => i < 0)) return [];
  return lines.map((l) => {
    const f = l.split(',');
    return { user: f[u]!.replace(/^#/, ''), usedBytes: Number(f[used]) * 1024, softBytes: Number(f[soft]) * 1024, hardBytes: Number(f[hard]) * 1024 };
  });
}

/**
 * `xfs_quota -x -c 'report -u -b -N' <mount>`: no header (`-N`), one line per user:
 * `alice   2048   4096   8192   00 [--------]`; blocks are 1 KiB.
 */
export function parseXfsReport(text: string): QuotaReportRow[] {
  const rows: QuotaReportRow[] = [];
  for (const line of text.split('\n')) {
    const m = /^(#?[A-Za-z_][\w.-]*|#\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(line);
    if (!m) continue;
    rows.push({ user: m[1]!.replace(/^#/, ''), usedBytes: Number(m[2]) * 1024, softBytes: Number(m[3]) * 1024, hardBytes: Number(m[4]) * 1024 });
  }
  return rows;
}

/** `xfs_quota -x -c state <mount>`: is user quota accounting and enforcement on? */
export function parseXfsState(text: string): { accounting: boolean; enforcement: boolean } {
  const block = /User quota state on[\s\S]*?(?=\n\S|$)/.exec(text)?.[0] ?? '';
  return { accounting: /Accounting:\s*ON/i.test(block), enforcement: /Enforcement:\s*ON/i.test(block) };
}

/** The disk mode in force and why. */
export interface DiskMode {
  inForce: 'enforced' | 'monitored' | 'off';
  reason: string;
  filesystem: Filesystem | null;
}

/**
 * Decides the disk mode: `enforced` only when asked for (auto/enforced) and the filesystem of
 * `home` has user quotas switched on; otherwise `monitored`, with the reason in words.
 */
export async function detectDiskMode(configured: 'auto' | 'enforced' | 'monitored' | 'off', home: string, run: Runner = runCommand): Promise<DiskMode> {
  if (configured === 'off') return { inForce: 'off', reason: 'disk quotas are switched off (quota.diskMode = "off")', filesystem: null };
  const fs = await filesystemOf(home, run);
  if (configured === 'monitored') return { inForce: 'monitored', reason: 'quota.diskMode is "monitored": usage is measured, kernel quotas are not used', filesystem: fs };
  const fallback = (why: string): DiskMode => ({
    inForce: 'monitored',
    reason: `${configured === 'enforced' ? 'quota.diskMode is "enforced" but kernel quotas cannot be used: ' : ''}${why}; usage is measured instead (monitored)`,
    filesystem: fs,
  });
  if (!fs) return fallback(`the filesystem of ${home} could not be found (findmnt failed)`);
  const where = `the filesystem of ${home} (${fs.type} on ${fs.source})`;
  if (fs.type === 'xfs') {
    try {
      const st = parseXfsState(await run('xfs_quota', ['-x', '-c', 'state', fs.mount]));
      if (st.accounting && st.enforcement) return { inForce: 'enforced', reason: `${where} has XFS user quotas on`, filesystem: fs };
      return fallback(`${where} has no XFS user quota enforcement (mount it with uquota)`);
    } catch (err) {
      return fallback(/not installed/.test((err as Error).message) ? 'quota tools not installed (xfs_quota)' : `xfs_quota failed: ${(err as Error).message}`);
    }
  }
  // `quotaon -p` prints "user quota on /home (/dev/vda) is on|off" and, in quota-tools ≥ 4,
  // exits non-zero when it is on; the words decide, repquota is the fallback check
  let out: string;
  try {
    out = await run('quotaon', ['-p', '-u', fs.mount]);
  } catch (err) {
    if (/not installed/.test((err as Error).message)) return fallback('quota tools not installed (quotaon/repquota)');
    out = String((err as { stdout?: string }).stdout ?? '');
  }
  if (/is on/i.test(out)) return { inForce: 'enforced', reason: `${where} has user quotas on`, filesystem: fs };
  if (!/is off/i.test(out)) {
    try {
      await run('repquota', ['-u', fs.mount]);
      return { inForce: 'enforced', reason: `${where} has user quotas on`, filesystem: fs };
    } catch {
      // falls through: no usable quota files
    }
  }
  return fallback(`${where} has no user quotas enabled`);
}

const NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** Sets a user's block limits (bytes, 0 = none) on the filesystem. */
export async function setUserLimits(fs: Filesystem, user: string, softBytes: number, hardBytes: number, run: Runner = runCommand): Promise<void> {
  if (!NAME.test(user)) throw new Error(`invalid user name: ${user}`);
  const kib = (b: number) => Math.ceil(b / 1024);
  if (fs.type === 'xfs') {
    await run('xfs_quota', ['-x', '-c', `limit -u bsoft=${kib(softBytes)}k bhard=${kib(hardBytes)}k ${user}`, fs.mount]);
  } else {
    await run('setquota', ['-u', user, String(kib(softBytes)), String(kib(hardBytes)), '0', '0', fs.mount]);
  }
}

/** Everyone's usage and limits from the kernel. */
export async function readReport(fs: Filesystem, run: Runner = runCommand): Promise<QuotaReportRow[]> {
  if (fs.type === 'xfs') return parseXfsReport(await run('xfs_quota', ['-x', '-c', 'report -u -b -N', fs.mount]));
  return parseRepquota(await run('repquota', ['-u', '-p', fs.mount]));
}
