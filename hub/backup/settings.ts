/**
 * Backup settings in force: the config file's `backup` section with what an admin saved from the
 * Backups view (`store.data.backup.settings`) on top, as runtime-settings does for the rest.
 * A patch is validated as a whole (cron expressions with croner) and nothing is applied if any
 * field is wrong.
 */
import { Cron } from 'croner';
import { z } from 'zod/v3';
import type { Config } from '../config.js';
import { HubError } from '../errors.js';
import type { BackupSettingsPatch } from './types.js';

/** The settings a run and the scheduler use. */
export interface BackupSettings {
  enabled: boolean;
  schedule: string;
  checkSchedule: string;
  retention: { daily: number; weekly: number; monthly: number };
  excludes: string[];
  staleDays: number;
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

const patchSchema = z
  .object({
    enabled: z.boolean(),
    schedule: cron,
    checkSchedule: cron,
    retention: z.object({ daily: keep, weekly: keep, monthly: keep }).partial().strict(),
    excludes: z.array(z.string().min(1).max(1024).refine((v) => !v.includes('\0'), 'may not hold a NUL character')).max(200),
    staleDays: z.number().int().min(1).max(365),
  })
  .partial()
  .strict();

/** The file's settings with the saved patch applied. */
export function effectiveSettings(file: Config['backup'], saved: BackupSettingsPatch): BackupSettings {
  return {
    enabled: saved.enabled ?? file.enabled,
    schedule: saved.schedule ?? file.schedule,
    checkSchedule: saved.checkSchedule ?? file.checkSchedule,
    retention: { ...file.retention, ...saved.retention },
    excludes: [...(saved.excludes ?? file.excludes)],
    staleDays: saved.staleDays ?? file.staleDays,
  };
}

/** Validates a patch (throws HUB_ERR_INVALID_SETTINGS naming each field) and merges it into `saved`. */
export function mergePatch(saved: BackupSettingsPatch, patch: unknown): BackupSettingsPatch {
  const parsed = patchSchema.safeParse(patch ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({
      field: i.path.join('.') || (i.code === 'unrecognized_keys' ? i.keys.join(', ') : '(body)'),
      message: i.code === 'unrecognized_keys' ? `unknown setting: ${i.keys.join(', ')}` : i.message,
    }));
    throw new HubError('HUB_ERR_INVALID_SETTINGS', undefined, { problems });
  }
  const next = parsed.data;
  const merged: BackupSettingsPatch = { ...saved, ...next };
  if (next.retention) merged.retention = { ...saved.retention, ...next.retention };
  if (next.excludes) merged.excludes = [...new Set(next.excludes)];
  return merged;
}
