/** Shapes of the hub's REST answers the GUI reads (docs/admin-api.md, JupyterHub's models). */
import type { BackupSummary } from './backup-types.js';

export interface Session {
  user: string;
  admin: boolean;
  xsrf: string;
  version: string;
}

export interface DiskStatus {
  mount: string;
  fs: string;
  size: number | null;
  used: number | null;
  available: number | null;
  percent: number | null;
}

export interface HubStatus {
  hub: { version: string; pid: number; startedAt: string; uptimeSeconds: number };
  proxy: { alive: boolean; pid: number | null; startedAt: string | null; uptimeSeconds: number | null; publicUrl: string | null; routes: number | null };
  /** null when the hub could not read the machine's figures at all. */
  machine: {
    hostname: string | null;
    cores: number | null;
    cpuPercent: number | null;
    load: number[] | null;
    memory: { total: number | null; used: number | null; available: number | null } | null;
    disks: DiskStatus[] | null;
    homeDisk: DiskStatus | null;
  } | null;
  users: { total: number; online: number; admins: number };
  servers: { running: number; starting: number; queued: number; stopping: number; limit: number; concurrency: number };
  spawnFailures: { user: string; time: string; message: string }[];
  lockouts: { kind: 'user' | 'address' | string; key: string; until: string; failures: number }[];
  /** null when the backup status could not be read. */
  backup: BackupSummary | null;
}

export type ServerState = 'stopped' | 'queued' | 'starting' | 'running' | 'stopping';

export interface UserRow {
  name: string;
  fullName: string | null;
  uid: number | null;
  /** false when the Linux account is gone; null when the hub could not read the accounts. */
  linux: boolean | null;
  admin: boolean;
  groups: string[];
  server: ServerState;
  queuePosition: number | null;
  started: string | null;
  lastActivity: string | null;
  url: string;
  homeBytes: number | null;
  homeMeasuredAt: string | null;
  lockedOut: boolean;
}

export interface AccountInput {
  name: string;
  fullName?: string;
  group?: string;
  password?: string;
}

/** Either a CSV roster or a list of users (the same two bodies preview and create accept). */
export type AccountsBody = { csv: string } | { users: AccountInput[] };

export type PreviewAction = 'create' | 'exists' | 'invalid' | 'duplicate';

export interface PreviewRow {
  line: number;
  name: string;
  fullName: string;
  group: string;
  passwordGiven: boolean;
  action: PreviewAction;
  problems: string[];
}

export interface PreviewResult {
  rows: PreviewRow[];
  summary: Record<PreviewAction, number>;
}

export type CreateStatus = 'created' | 'updated' | 'skipped' | 'failed';

export interface CreateRow {
  line: number;
  name: string;
  fullName: string;
  group: string;
  status: CreateStatus;
  password?: string;
  message?: string;
}

export interface CreateResult {
  rows: CreateRow[];
  summary: Record<CreateStatus, number>;
}

export type HomeChoice = 'keep' | 'archive' | 'delete';

export interface RemoveResult {
  name: string;
  home: 'kept' | 'archived' | 'deleted';
  archive: string | null;
}

export interface LogInfo {
  id: string;
  size: number;
  modified: string;
}

export interface LogTail {
  id: string;
  lines: string[];
  size: number;
  truncated: boolean;
}

export interface Settings {
  cullerEnabled: boolean;
  idleTimeoutSeconds: number;
  spawnConcurrency: number;
  activeServerLimit: number;
  allowedGroups: string[];
}

export interface SettingsAnswer {
  settings: Settings;
  saved: (keyof Settings)[];
}

/** JupyterHub's group model. */
export interface Group {
  kind: 'group';
  name: string;
  users: string[];
}

export interface Problem {
  field: string;
  message: string;
}

/** Disk, memory and CPU limits in bytes and cores; 0 = no limit. */
export interface QuotaLimits {
  diskSoft: number;
  diskHard: number;
  memory: number;
  cpus: number;
}

export type QuotaKey = keyof QuotaLimits;

/** A group's or user's override: only the fields it sets. */
export type QuotaOverride = Partial<QuotaLimits>;

/** What PUT sends: sizes as text ("5G") or bytes; null clears the field. */
export type QuotaPatch = Partial<Record<QuotaKey, string | number | null>>;

export type QuotaState = 'ok' | 'over-soft' | 'over-hard' | 'no-limit';

export interface QuotaUsage {
  user: string;
  bytes: number | null;
  measuredAt: string | null;
  limits: QuotaLimits;
  /** `default`, `group:<name>` or `user`, per limit. */
  sources: Record<QuotaKey, string>;
  state: QuotaState;
  percent: number | null;
}

/** What a quota write answers (besides its own fields): kernel quotas that could not be set. */
export interface QuotaWriteResult {
  kernelProblems?: string[];
}

export interface QuotaStatus {
  disk: { configured: 'auto' | 'enforced' | 'monitored' | 'off'; inForce: 'enforced' | 'monitored' | 'off'; reason: string; filesystem?: string | null };
  memory: { inForce: 'cgroup-v2' | 'cgroup-v1' | 'systemd' | 'docker' | 'not enforced' | string; reason: string };
  defaults: QuotaLimits;
  /** Defaults saved from the GUI/CLI (the rest follow the config file). */
  defaultsSaved: string[];
  groups: Record<string, QuotaOverride>;
  users: Record<string, QuotaOverride>;
  /** Sorted by fullness, fullest first. */
  usage: QuotaUsage[];
}
