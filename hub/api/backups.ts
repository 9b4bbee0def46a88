/**
 * The backup API (docs/admin-api.md, "Backups"): the admin's status, settings, run-now and check
 * under `/hub/api/labhub/backup…`, and a user's snapshots, browsing and restore under
 * `/hub/api/users/:name/backups…`. Those are for the owner or an admin only: anybody else gets the
 * same 404 as for a user that does not exist (JupyterHub's answer for a filtered scope), and an
 * unauthenticated caller 403. The engine (hub/backup) validates names, ids and paths itself.
 */
import express, { type Request, type Router } from 'express';
import { Cron } from 'croner';
import { z } from 'zod/v3';
import type { BackupService, RestoreMode } from '../backup/types.js';
import { HubError } from '../errors.js';
import type { IdentityResolver } from '../http/identity.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { apiIdentity, jsonBody, requireAdmin, requireScope, userParam } from './access.js';

export interface BackupsApiOptions {
  store: Store;
  identity: IdentityResolver;
  backup: BackupService;
  log: Logger;
}

const cron = z.string().refine(
  (v) => {
    try {
      new Cron(v, { paused: true }).stop();
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a cron expression, e.g. "0 2 * * *" (02:00 every day)' },
);
const keep = z.number().int().min(0).max(1000);

/** What an admin may change from the Backups view; everything else stays in the config file. */
const settingsPatch = z
  .object({
    enabled: z.boolean(),
    schedule: cron,
    checkSchedule: cron,
    retention: z.object({ daily: keep, weekly: keep, monthly: keep }).partial().strict(),
    excludes: z
      .array(z.string().min(1).max(1024).regex(/^[^\n\r\0]+$/, 'one pattern per entry, no line breaks'))
      .max(200),
    staleDays: z.number().int().min(1).max(365),
  })
  .partial()
  .strict();

const restoreBody = z
  .object({
    path: z.string().max(4096).default('/'),
    mode: z.enum(['side', 'in-place']).default('side'),
    confirmToken: z.string().min(1).max(512).optional(),
  })
  .strict();

function problemsOf(error: z.ZodError): Array<{ field: string; message: string }> {
  return error.issues.map((i) => ({
    field: i.path.join('.') || (i.code === 'unrecognized_keys' ? i.keys.join(', ') : '(body)'),
    message: i.code === 'unrecognized_keys' ? `unknown setting: ${i.keys.join(', ')}` : i.message,
  }));
}

/** `?limit=N` as an integer in 1..200 (default 20). */
function limitParam(req: Request): number {
  const n = Number.parseInt(String(req.query.limit ?? '20'), 10);
  return Number.isFinite(n) ? Math.min(200, Math.max(1, n)) : 20;
}

export function backupsRouter(o: BackupsApiOptions): Router {
  const r = express.Router();

  /**
   * The owner or an admin, holding `access:servers` for the user (reading and restoring files is
   * what access to their server allows); anybody else sees a 404 as if the user did not exist.
   */
  const ownerOrAdmin = (req: Request): { user: string; name: string; admin: boolean } => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['access:servers'], name, o.store);
    if (id.user !== name && !id.admin) throw new HubError('HUB_ERR_NOT_FOUND', 'No access to resources or resources not found');
    if (id.user !== name && !o.store.data.users[name]) throw new HubError('HUB_ERR_NOT_FOUND');
    return { user: id.user, name, admin: id.admin };
  };

  // ---- admin
  r.get('/hub/api/labhub/backup', async (req, res) => {
    requireAdmin(req, o.identity);
    res.json(await o.backup.status());
  });

  r.patch('/hub/api/labhub/backup/settings', jsonBody, async (req, res) => {
    const id = requireAdmin(req, o.identity);
    const parsed = settingsPatch.safeParse(req.body ?? {});
    if (!parsed.success) throw new HubError('HUB_ERR_INVALID_SETTINGS', undefined, { problems: problemsOf(parsed.error) });
    const status = await o.backup.updateSettings(parsed.data);
    o.log.info({ by: id.user, backup: parsed.data }, 'backup settings changed');
    res.json(status);
  });

  r.post('/hub/api/labhub/backup/run', jsonBody, async (req, res) => {
    const id = requireAdmin(req, o.identity);
    const body = (req.body ?? {}) as { users?: unknown };
    if (body.users !== undefined && (!Array.isArray(body.users) || body.users.some((u) => typeof u !== 'string'))) {
      throw new HubError('HUB_ERR_BAD_REQUEST', 'Expected {"users": ["name", ...]} or no body (all users)');
    }
    const users = body.users as string[] | undefined;
    const run = await o.backup.runNow({ users: users?.length ? [...new Set(users)] : undefined, by: id.user });
    o.log.info({ by: id.user, run: run.id, users: run.users.length }, 'backup run started');
    res.status(202).json(run);
  });

  r.post('/hub/api/labhub/backup/check', async (req, res) => {
    const id = requireAdmin(req, o.identity);
    const run = await o.backup.checkNow({ by: id.user });
    o.log.info({ by: id.user, run: run.id }, 'repository check started');
    res.status(202).json(run);
  });

  r.get('/hub/api/labhub/backup/runs', (req, res) => {
    requireAdmin(req, o.identity);
    res.json(o.backup.runs(limitParam(req)));
  });

  r.get('/hub/api/labhub/backup/runs/:id', (req, res) => {
    requireAdmin(req, o.identity);
    const run = o.backup.runs(200).find((x) => x.id === String(req.params.id));
    if (!run) throw new HubError('HUB_ERR_NOT_FOUND', `No backup run ${String(req.params.id)} in the history`);
    res.json(run);
  });

  // ---- the owner or an admin
  /**
   * Repository trouble is the admin's to fix: a student is told that backups cannot be read now,
   * not where the repository is or what restic said (the admin sees that in the Backups view).
   */
  const forStudents = async <T>(admin: boolean, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (admin || !(err instanceof HubError) || (err.code !== 'HUB_ERR_BACKUP_UNAVAILABLE' && err.code !== 'HUB_ERR_BACKUP_FAILED')) throw err;
      o.log.warn({ err: err.message }, 'backups could not be read for a student');
      throw new HubError(err.code, 'Backups cannot be read right now. Please try again later or ask the lab administrator.');
    }
  };

  r.get('/hub/api/users/:name/backups', async (req, res) => {
    const { name, admin } = ownerOrAdmin(req);
    let snapshots;
    try {
      snapshots = await forStudents(admin, () => o.backup.snapshots(name));
    } catch (err) {
      // before the first backup has made the repository there are simply no snapshots yet
      if (err instanceof HubError && err.code === 'HUB_ERR_BACKUP_UNAVAILABLE' && o.store.data.backup.repositoryId === null) return void res.json([]);
      throw err;
    }
    res.json([...snapshots].sort((a, b) => Date.parse(b.time) - Date.parse(a.time)));
  });

  r.get('/hub/api/users/:name/backups/:snapshot/files', async (req, res) => {
    const { name, admin } = ownerOrAdmin(req);
    const path = typeof req.query.path === 'string' && req.query.path ? req.query.path : '/';
    res.json(await forStudents(admin, () => o.backup.browse(name, String(req.params.snapshot), path)));
  });

  r.post('/hub/api/users/:name/backups/:snapshot/restore', jsonBody, async (req, res) => {
    const { user, name, admin } = ownerOrAdmin(req);
    const parsed = restoreBody.safeParse(req.body ?? {});
    if (!parsed.success) throw new HubError('HUB_ERR_BAD_REQUEST', 'Expected {"path": "/sub/dir", "mode": "side" | "in-place", "confirmToken"?}', { problems: problemsOf(parsed.error) });
    const { path, confirmToken } = parsed.data;
    const mode: RestoreMode = parsed.data.mode;
    const snapshot = String(req.params.snapshot);
    const planAnswer = async (message: string) => {
      const plan = await forStudents(admin, () => o.backup.planRestore(name, snapshot, path, mode));
      res.status(409).json({ status: 409, message, plan });
    };
    if (mode === 'in-place' && !confirmToken) {
      return void (await planAnswer('Restoring in place overwrites what is listed in the plan; confirm with its confirmToken.'));
    }
    let result;
    try {
      result = await forStudents(admin, () => o.backup.restore(name, snapshot, path, mode, confirmToken));
    } catch (err) {
      // a token for a plan that no longer holds (files changed, or it expired): show the new plan
      if (mode === 'in-place' && err instanceof HubError && err.code === 'HUB_ERR_RESTORE_NOT_CONFIRMED') return void (await planAnswer(err.message));
      throw err;
    }
    o.log.info({ by: user, user: name, snapshot, path, mode, target: result.target, files: result.files }, 'restored from backup');
    res.json(result);
  });

  return r;
}

/** The dashboard's backup card (a field of GET /hub/api/labhub/status). */
export interface BackupSummary {
  enabled: boolean;
  lastRun: { id: string; kind: 'backup' | 'check'; time: string; ended: string | null; status: string; message: string | null } | null;
  /** Recent runs that failed or left some users without a complete snapshot, newest first. */
  failures: Array<{ id: string; time: string; status: string; message: string | null; users: string[] }>;
  /** Users with no successful backup for more than `staleDays` (or never). */
  stale: string[];
  staleDays: number;
  repositoryError: string | null;
}

/** Summarises the backup status for the dashboard; null when it cannot be read. */
export async function backupSummary(backup: BackupService): Promise<BackupSummary | null> {
  const s = await backup.status();
  const runs = [...(s.running ? [s.running] : []), ...s.lastRuns.filter((x) => x.id !== s.running?.id)];
  runs.sort((a, b) => Date.parse(b.started) - Date.parse(a.started));
  const last = runs.find((x) => x.kind === 'backup') ?? runs[0] ?? null;
  return {
    enabled: s.enabled,
    lastRun: last && { id: last.id, kind: last.kind, time: last.started, ended: last.ended, status: last.status, message: last.message },
    failures: runs
      .filter((x) => x.status === 'failed' || x.status === 'partial')
      .slice(0, 5)
      .map((x) => ({
        id: x.id,
        time: x.started,
        status: x.status,
        message: x.message,
        users: x.results.filter((u) => u.status === 'failed' || u.status === 'partial').map((u) => u.user),
      })),
    stale: s.stale,
    staleDays: s.staleDays,
    repositoryError: s.repositoryError,
  };
}
