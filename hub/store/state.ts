/** The shape of LabHub's persistent state (one lowdb JSON file). Secrets are stored only as hashes. */

import type { BackupRunRecord, BackupSettingsPatch } from '../backup/types.js';
import type { PartialLimits } from '../quota/policy.js';

export const STATE_SCHEMA_VERSION = 1;

export interface UserRecord {
  name: string;
  created: string;
  lastActivity: string | null;
  /** Config admin (users/groups, at the last login) or granted through the API. */
  admin: boolean;
  /** Admin granted through the API (kept across logins, unlike the config-derived part). */
  adminByApi?: boolean;
}

export type ServerStatus = 'pending' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface ServerRecord {
  user: string;
  /** '' is the default server. */
  name: string;
  status: ServerStatus;
  spawner: string;
  /** Spawner-specific data for re-adoption (pid, start time, port, …). */
  state: Record<string, unknown>;
  /** Where the proxy sends `/user/<name>/`: scheme, host and port only. */
  target: string | null;
  started: string | null;
  lastActivity: string | null;
  stoppedAt: string | null;
  /** Why the server is not running, shown to the student on their next visit. */
  stopReason: string | null;
  /** Shown to the student while the server runs, e.g. a kernel killed by the memory limit; cleared by the next start. */
  notice?: string | null;
  tokenId: string | null;
}

export interface TokenRecord {
  id: string;
  /** First 4 characters of the token, to find candidates. */
  prefix: string;
  /** `sha512:<rounds>:<salt>:<hex>` as JupyterHub stores it. */
  hash: string;
  user: string;
  /** `service`: the local admin CLI's token (see hub/admin/cli-token.ts). */
  kind: 'api_token' | 'server' | 'oauth' | 'service';
  clientId: string;
  sessionId: string | null;
  scopes: string[];
  note: string;
  created: string;
  lastActivity: string | null;
  expiresAt: string | null;
}

export interface OAuthClientRecord {
  id: string;
  secretHash: string;
  redirectUri: string;
  description: string;
  user: string;
  server: string;
  allowedScopes: string[];
}

export interface SessionRecord {
  user: string;
  /** Value of the `jupyterhub-session-id` cookie this login set (ties OAuth tokens to it). */
  sessionId: string;
  csrf: string;
  created: string;
  expiresAt: string;
  address: string;
}

export interface FailureRecord {
  count: number;
  first: string;
  last: string;
  lockedUntil: string | null;
}

/** A JupyterHub group (a class): members by user name. Kept apart from Linux groups. */
export interface GroupRecord {
  name: string;
  users: string[];
  created: string;
}

/** A failed spawn, kept (the most recent 100) for the admin's dashboard. */
export interface SpawnFailureRecord {
  user: string;
  at: string;
  reason: string;
}

export interface State {
  schemaVersion: number;
  users: Record<string, UserRecord>;
  servers: Record<string, ServerRecord>;
  tokens: Record<string, TokenRecord>;
  nextTokenId: number;
  oauthClients: Record<string, OAuthClientRecord>;
  /** Keyed by SHA-256 of the login cookie value. */
  sessions: Record<string, SessionRecord>;
  loginFailures: { users: Record<string, FailureRecord>; addresses: Record<string, FailureRecord> };
  groups: Record<string, GroupRecord>;
  spawnFailures: SpawnFailureRecord[];
  /** Settings an admin changed at run time; they override the config file (hub/settings). */
  settings: SavedSettings;
  /** Backups (hub/backup): the repository LabHub initialised, run history, saved settings. */
  backup: BackupState;
  /** Quotas and limits (hub/quota): overrides saved from the GUI/CLI, last measured usage. */
  quota: QuotaState;
}

/** Limits saved from the admin GUI or `labhub quota set` (sizes in bytes; 0 = no limit). */
export interface QuotaState {
  /** Saved defaults (override `quota.defaults` of the config file per field). */
  defaults: PartialLimits;
  users: Record<string, PartialLimits>;
  groups: Record<string, PartialLimits>;
  /** Measured home usage (monitored mode), so figures survive a restart. */
  usage: Record<string, { bytes: number; measuredAt: string }>;
}

/** What the hub remembers about backups. */
export interface BackupState {
  /** restic's id of the repository LabHub initialised or first used; a different or missing one is an error, never re-initialised. */
  repositoryId: string | null;
  runs: BackupRunRecord[];
  settings: BackupSettingsPatch;
}

/** Run-time settings saved from the admin GUI (absent = the config file's value). */
export interface SavedSettings {
  cullerEnabled?: boolean;
  idleTimeoutSeconds?: number;
  spawnConcurrency?: number;
  activeServerLimit?: number;
  allowedGroups?: string[];
}

export function emptyState(): State {
  return {
    schemaVersion: STATE_SCHEMA_VERSION,
    users: {},
    servers: {},
    tokens: {},
    nextTokenId: 1,
    oauthClients: {},
    sessions: {},
    loginFailures: { users: {}, addresses: {} },
    groups: {},
    spawnFailures: [],
    settings: {},
    backup: { repositoryId: null, runs: [], settings: {} },
    quota: { defaults: {}, users: {}, groups: {}, usage: {} },
  };
}
