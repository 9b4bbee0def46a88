/**
 * `labhub backup run|list|restore|check`: like `labhub users …`, these run as root on the lab
 * server and act through the running hub's API with the cli-token, so a backup started here is
 * the same one-at-a-time run the schedule and the admin GUI start, and is recorded with them.
 */
import type { BackupRunRecord, RestorePlan, RestoreResult, SnapshotInfo } from '../backup/types.js';
import type { Config } from '../config.js';
import { AdminCommandError, call, table } from './commands.js';

export const BACKUP_USAGE = `Backup commands (as root, while LabHub runs):
  labhub backup run [USER...] [--wait]        back up every hub user's home (or only these) now; --wait: until done
  labhub backup list [USER] [--json]          the recent runs, or USER's snapshots
  labhub backup restore USER SNAPSHOT [PATH] [--in-place [--yes]]
                                              restore USER's home (or PATH in it) from SNAPSHOT ("latest": the newest)
                                              into ~USER/restored-<time>/; --in-place overwrites the files in the home,
                                              and without --yes only lists what it would overwrite (exit 1)
  labhub backup check [--wait]                verify the repository (restic check)`;

export interface BackupOptions {
  json: boolean;
  wait: boolean;
  inPlace: boolean;
  yes: boolean;
}

/** What to print and the exit code (0 done, 1 failed or not confirmed). */
export interface CommandOutput {
  text: string;
  code: number;
}

const seg = encodeURIComponent;

/** Runs a `labhub backup …` command. Usage errors throw AdminCommandError starting with "usage:". */
export async function runBackupCommand(config: Readonly<Config>, args: string[], opts: BackupOptions): Promise<CommandOutput> {
  const [verb, ...rest] = args;
  if (!verb) throw new AdminCommandError(`usage: labhub backup run|list|restore|check …\n\n${BACKUP_USAGE}`);
  if (verb === 'run' || verb === 'check') {
    if (verb === 'check' && rest.length) throw new AdminCommandError('usage: labhub backup check [--wait]');
    const { data } = await call(config, 'POST', `/labhub/backup/${verb}`, verb === 'run' && rest.length ? { users: rest } : {});
    const started = data as BackupRunRecord;
    if (!opts.wait) {
      const what = verb === 'check' ? 'repository check' : `backup of ${started.users.length ? started.users.join(', ') : 'every user'}`;
      return { text: `started ${what} (run ${started.id}); follow it with "labhub backup list"`, code: 0 };
    }
    const done = await waitForRun(config, started.id);
    return { text: opts.json ? JSON.stringify(done, null, 2) : describeRun(done), code: done.status === 'ok' ? 0 : 1 };
  }
  if (verb === 'list') {
    if (rest.length > 1) throw new AdminCommandError('usage: labhub backup list [USER] [--json]');
    if (rest.length === 1) {
      const snaps = await snapshotsOf(config, rest[0]!);
      if (opts.json) return { text: JSON.stringify(snaps, null, 2), code: 0 };
      if (!snaps.length) return { text: `${rest[0]} has no snapshots yet`, code: 0 };
      return { text: table([['SNAPSHOT', 'TIME (LOCAL)'], ...snaps.map((s) => [s.shortId, localTime(s.time)])]), code: 0 };
    }
    const { data } = await call(config, 'GET', '/labhub/backup/runs?limit=20');
    const runs = data as BackupRunRecord[];
    if (opts.json) return { text: JSON.stringify(runs, null, 2), code: 0 };
    if (!runs.length) return { text: 'no backup runs yet', code: 0 };
    const rows = runs.map((r) => {
      const ok = r.results.filter((u) => u.status === 'ok').length;
      return [r.id, r.kind, localTime(r.started), r.status, r.kind === 'backup' ? `${ok}/${r.results.length || r.users.length}` : '-', bytes(r.bytesAdded), firstLine(r.message)];
    });
    return { text: table([['RUN', 'KIND', 'STARTED', 'STATUS', 'USERS OK', 'ADDED', 'MESSAGE'], ...rows]), code: 0 };
  }
  if (verb === 'restore') {
    if (rest.length < 2 || rest.length > 3 || (opts.yes && !opts.inPlace)) {
      throw new AdminCommandError('usage: labhub backup restore USER SNAPSHOT [PATH] [--in-place [--yes]]');
    }
    const [user, snapshotArg, rawPath = '/'] = rest as [string, string, string?];
    const path = rawPath.startsWith('/') ? rawPath : `/${rawPath}`;
    let snapshot = snapshotArg;
    if (snapshot === 'latest') {
      const newest = (await snapshotsOf(config, user))[0];
      if (!newest) throw new AdminCommandError(`${user} has no snapshots yet`);
      snapshot = newest.id;
    }
    const url = `/users/${seg(user)}/backups/${seg(snapshot)}/restore`;
    const mode = opts.inPlace ? 'in-place' : 'side';
    let answer = await call(config, 'POST', url, { path, mode }, [409]);
    if (answer.status === 409) {
      const plan = (answer.data as { plan?: RestorePlan }).plan;
      if (!plan) throw new AdminCommandError((answer.data as { message?: string }).message ?? 'the hub refused the restore (409)');
      if (!opts.yes) return { text: describePlan(plan), code: 1 };
      answer = await call(config, 'POST', url, { path, mode, confirmToken: plan.confirmToken });
    }
    const r = answer.data as RestoreResult;
    const where = r.mode === 'side' ? `into ${r.target} (as ${r.target}${r.path === '/' ? '' : r.path})` : `in place in ${r.target}`;
    return { text: `restored ${r.files} file(s), ${bytes(r.bytes)}, of ${r.path} from snapshot ${r.snapshotId.slice(0, 8)} ${where}`, code: 0 };
  }
  throw new AdminCommandError(`unknown command "backup ${args.join(' ')}"\n\n${BACKUP_USAGE}`);
}

async function snapshotsOf(config: Readonly<Config>, user: string): Promise<SnapshotInfo[]> {
  const { data } = await call(config, 'GET', `/users/${seg(user)}/backups`);
  return [...(data as SnapshotInfo[])].sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
}

/** Polls the run until it has ended (backups of many homes take minutes; there is no time limit). */
async function waitForRun(config: Readonly<Config>, id: string): Promise<BackupRunRecord> {
  for (;;) {
    const { data } = await call(config, 'GET', `/labhub/backup/runs/${seg(id)}`);
    const run = data as BackupRunRecord;
    if (run.status !== 'running' && run.ended) return run;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function describeRun(r: BackupRunRecord): string {
  const added = r.kind === 'backup' ? `, ${bytes(r.bytesAdded)} added` : '';
  const lines = [`${r.kind} run ${r.id}: ${r.status} (${localTime(r.started)} – ${r.ended ? localTime(r.ended) : '…'})${added}`];
  if (r.message) lines.push(r.message);
  if (r.results.length) {
    lines.push(
      table([
        ['USER', 'STATUS', 'SNAPSHOT', 'ADDED', 'ERRORS'],
        ...r.results.map((u) => [u.user, u.status, u.snapshotId?.slice(0, 8) ?? '-', bytes(u.bytesAdded), firstLine(u.errors.join('; '))]),
      ]),
    );
  }
  if (r.hubState) lines.push(`hub state and config: ${r.hubState.error ?? `snapshot ${r.hubState.snapshotId?.slice(0, 8) ?? '-'}`}`);
  if (r.retention) lines.push(`retention: ${r.retention.error ?? `${r.retention.removed} snapshot(s) removed`}`);
  return lines.join('\n');
}

function describePlan(p: RestorePlan): string {
  const head = `Restoring ${p.path} of ${p.user}'s snapshot ${p.snapshotId.slice(0, 8)} in place (into ${p.target})`;
  if (!p.overwrite.length) return `${head} overwrites no existing file.\nRun again with --yes to restore.`;
  return `${head} would overwrite ${p.overwrite.length} existing file(s):\n${p.overwrite.map((f) => `  ${f}`).join('\n')}\nRun again with --yes to overwrite them.`;
}

function firstLine(s: string | null | undefined): string {
  const line = (s ?? '').split('\n')[0]!;
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

/** Local time as `2026-11-22 08:00:00` (the server's time zone, like cron schedules). */
export function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  for (; v >= 1000 && i < units.length - 1; i++) v /= 1000;
  return `${i === 0 || v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}
