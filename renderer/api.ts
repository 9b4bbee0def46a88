/**
 * Typed client of the hub's REST API (docs/admin-api.md). It learns the session's CSRF token
 * from `GET /hub/api/labhub/session` first and sends it as `X-XSRFToken` on every write, as the
 * hub requires for cookie-authenticated API calls (JupyterHub does the same). Errors carry the
 * hub's `message` and `problems` so views can show them next to the right field.
 */
import type {
  AccountsBody,
  CreateResult,
  Group,
  HomeChoice,
  HubStatus,
  LogInfo,
  LogTail,
  PreviewResult,
  Problem,
  QuotaPatch,
  QuotaStatus,
  QuotaWriteResult,
  RemoveResult,
  Session,
  Settings,
  SettingsAnswer,
  UserRow,
} from './api-types.js';
import type {
  BackupRunRecord,
  BackupSettingsPatch,
  BackupStatus,
  RestoreMode,
  RestoreNeedsConfirmation,
  RestoreResult,
  SnapshotEntry,
  SnapshotInfo,
} from './backup-types.js';

export type * from './api-types.js';
export type * from './backup-types.js';

/** A failed API call: the HTTP status, the hub's message and any per-field problems. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problems: Problem[] = [],
    /** The whole JSON answer (e.g. a restore plan with a 409). */
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const seg = encodeURIComponent;

export class Api {
  private xsrf = '';

  /** Fetches the session (and with it the CSRF token). Call once before any write. */
  async session(): Promise<Session> {
    const s = await this.call<Session>('GET', '/hub/api/labhub/session');
    this.xsrf = s.xsrf;
    return s;
  }

  async call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (method !== 'GET') headers['X-XSRFToken'] = this.xsrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new ApiError(0, `The hub did not answer (${(err as Error).message}). Is it running?`);
    }
    const text = await res.text();
    let data: unknown = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const d = (data ?? {}) as { message?: unknown; problems?: unknown };
      const message = typeof d.message === 'string' && d.message ? d.message : `${method} ${path} failed: HTTP ${res.status}`;
      const problems = Array.isArray(d.problems) ? (d.problems as Problem[]) : [];
      throw new ApiError(res.status, message, problems, data);
    }
    return data as T;
  }

  status(): Promise<HubStatus> {
    return this.call('GET', '/hub/api/labhub/status');
  }

  users(): Promise<UserRow[]> {
    return this.call('GET', '/hub/api/labhub/users');
  }

  refreshUsage(): Promise<{ started: boolean }> {
    return this.call('POST', '/hub/api/labhub/usage/refresh', {});
  }

  startServer(name: string): Promise<unknown> {
    return this.call('POST', `/hub/api/users/${seg(name)}/server`, {});
  }

  stopServer(name: string): Promise<unknown> {
    return this.call('DELETE', `/hub/api/users/${seg(name)}/server`);
  }

  setAdmin(name: string, admin: boolean): Promise<unknown> {
    return this.call('PATCH', `/hub/api/users/${seg(name)}`, { admin });
  }

  previewAccounts(body: AccountsBody): Promise<PreviewResult> {
    return this.call('POST', '/hub/api/labhub/accounts/preview', body);
  }

  createAccounts(body: AccountsBody): Promise<CreateResult> {
    return this.call('POST', '/hub/api/labhub/accounts', body);
  }

  resetPassword(name: string, password?: string): Promise<{ name: string; password: string }> {
    return this.call('POST', `/hub/api/labhub/accounts/${seg(name)}/password`, password ? { password } : {});
  }

  removeAccount(name: string, home: HomeChoice): Promise<RemoveResult> {
    return this.call('DELETE', `/hub/api/labhub/accounts/${seg(name)}?home=${home}`);
  }

  groups(): Promise<Group[]> {
    return this.call('GET', '/hub/api/groups');
  }

  createGroup(name: string): Promise<Group> {
    return this.call('POST', `/hub/api/groups/${seg(name)}`, {});
  }

  deleteGroup(name: string): Promise<unknown> {
    return this.call('DELETE', `/hub/api/groups/${seg(name)}`);
  }

  addToGroup(group: string, users: string[]): Promise<Group> {
    return this.call('POST', `/hub/api/groups/${seg(group)}/users`, { users });
  }

  removeFromGroup(group: string, users: string[]): Promise<Group> {
    return this.call('DELETE', `/hub/api/groups/${seg(group)}/users`, { users });
  }

  logs(): Promise<LogInfo[]> {
    return this.call('GET', '/hub/api/labhub/logs');
  }

  /** `id` is `hub`, `proxy` or `users/<name>`; each part is encoded, the slash kept. */
  logTail(id: string, lines: number, q: string): Promise<LogTail> {
    const params = new URLSearchParams({ lines: String(lines) });
    if (q) params.set('q', q);
    return this.call('GET', `/hub/api/labhub/logs/${id.split('/').map(seg).join('/')}?${params}`);
  }

  settings(): Promise<SettingsAnswer> {
    return this.call('GET', '/hub/api/labhub/settings');
  }

  saveSettings(patch: Partial<Settings>): Promise<SettingsAnswer> {
    return this.call('PATCH', '/hub/api/labhub/settings', patch);
  }

  backupStatus(): Promise<BackupStatus> {
    return this.call('GET', '/hub/api/labhub/backup');
  }

  saveBackupSettings(patch: BackupSettingsPatch): Promise<BackupStatus> {
    return this.call('PATCH', '/hub/api/labhub/backup/settings', patch);
  }

  /** All users, or only `users`; 409 while another run is going. */
  runBackup(users?: string[]): Promise<BackupRunRecord> {
    return this.call('POST', '/hub/api/labhub/backup/run', users?.length ? { users } : {});
  }

  checkBackups(): Promise<BackupRunRecord> {
    return this.call('POST', '/hub/api/labhub/backup/check', {});
  }

  snapshots(user: string): Promise<SnapshotInfo[]> {
    return this.call('GET', `/hub/api/users/${seg(user)}/backups`);
  }

  snapshotFiles(user: string, snapshot: string, path: string): Promise<SnapshotEntry[]> {
    return this.call('GET', `/hub/api/users/${seg(user)}/backups/${seg(snapshot)}/files?path=${seg(path)}`);
  }

  /**
   * Restores `path` of a snapshot. In place without a valid `confirmToken` the hub answers 409
   * with the plan (what would be overwritten): that comes back as `{ plan }` for the view to show.
   */
  async restore(user: string, snapshot: string, path: string, mode: RestoreMode, confirmToken?: string): Promise<RestoreResult | RestoreNeedsConfirmation> {
    try {
      return await this.call<RestoreResult>('POST', `/hub/api/users/${seg(user)}/backups/${seg(snapshot)}/restore`, { path, mode, confirmToken });
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && err.body && typeof err.body === 'object' && 'plan' in err.body) return err.body as RestoreNeedsConfirmation;
      throw err;
    }
  }

  quota(): Promise<QuotaStatus> {
    return this.call('GET', '/hub/api/labhub/quota');
  }

  saveQuotaDefaults(patch: QuotaPatch): Promise<QuotaWriteResult> {
    return this.call('PUT', '/hub/api/labhub/quota/defaults', patch);
  }

  /** `kind` is `users` or `groups`. */
  saveQuotaOverride(kind: 'users' | 'groups', name: string, patch: QuotaPatch): Promise<QuotaWriteResult> {
    return this.call('PUT', `/hub/api/labhub/quota/${kind}/${seg(name)}`, patch);
  }

  removeQuotaOverride(kind: 'users' | 'groups', name: string): Promise<QuotaWriteResult> {
    return this.call('DELETE', `/hub/api/labhub/quota/${kind}/${seg(name)}`);
  }

  /** Measures every home now (in the background; 202). */
  scanQuota(): Promise<unknown> {
    return this.call('POST', '/hub/api/labhub/quota/scan', {});
  }
}
