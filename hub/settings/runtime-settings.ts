/**
 * The settings an admin may change while the hub runs (admin GUI → Settings): culling on/off and
 * the idle timeout, spawn concurrency, the active-server limit and the allowed login groups.
 * They are saved in the hub state (so they survive restarts and override the config file) and
 * applied in place: the hub's components read the live objects this class owns, so a change
 * takes effect at the culler's next pass, the next queued start and the next login, and nobody's
 * server or session is touched.
 */
import { execFile } from 'node:child_process';
import { z } from 'zod/v3';
import type { Config } from '../config.js';
import { HubError } from '../errors.js';
import type { SavedSettings } from '../store/state.js';
import type { Store } from '../store/store.js';

const GROUP_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

export interface SettingsValues {
  cullerEnabled: boolean;
  idleTimeoutSeconds: number;
  spawnConcurrency: number;
  activeServerLimit: number;
  allowedGroups: string[];
}

const patchSchema = z
  .object({
    cullerEnabled: z.boolean(),
    idleTimeoutSeconds: z.number().int().min(60).max(604_800),
    spawnConcurrency: z.number().int().min(0).max(64),
    activeServerLimit: z.number().int().min(0).max(10_000),
    allowedGroups: z.array(z.string().regex(GROUP_NAME, 'not a valid group name')).max(100),
  })
  .partial()
  .strict();

/** A config whose run-time-changeable sections are live, unfrozen copies. */
export type LiveConfig = Config;

/** True if the Linux group exists (getent; no shell). */
export function groupExists(name: string): Promise<boolean> {
  return new Promise((resolve) => execFile('getent', ['group', name], (err) => resolve(!err)));
}

export class RuntimeSettings {
  /** The config every component is given: the file's values with the saved settings applied. */
  readonly live: LiveConfig;
  private readonly listeners: Array<(v: SettingsValues) => void> = [];

  constructor(
    config: Readonly<Config>,
    private readonly store: Store,
    private readonly hasGroup: (name: string) => Promise<boolean> = groupExists,
  ) {
    this.live = {
      ...config,
      auth: { ...config.auth },
      culler: { ...config.culler },
      spawner: { ...config.spawner },
    } as LiveConfig;
    this.apply(store.data.settings ?? {});
  }

  /** The settings in force now. */
  values(): SettingsValues {
    const l = this.live;
    return {
      cullerEnabled: l.culler.enabled,
      idleTimeoutSeconds: l.culler.idleTimeoutSeconds,
      spawnConcurrency: l.spawner.concurrency,
      activeServerLimit: l.spawner.activeServerLimit,
      allowedGroups: [...l.auth.allowedGroups],
    };
  }

  /** Which settings come from the state rather than the config file. */
  saved(): string[] {
    return Object.keys(this.store.data.settings ?? {}).sort();
  }

  /** Called after every successful update (the hub re-applies concurrency and the culler). */
  onChange(listener: (v: SettingsValues) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Validates `patch` as a whole (nothing is applied if any field is wrong), saves it to the state
   * (on disk before this resolves) and applies it.
   */
  async update(patch: unknown): Promise<SettingsValues> {
    const parsed = patchSchema.safeParse(patch ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => ({
        field: i.path.join('.') || (i.code === 'unrecognized_keys' ? i.keys.join(', ') : '(body)'),
        message: i.code === 'unrecognized_keys' ? `unknown setting: ${i.keys.join(', ')}` : i.message,
      }));
      throw new HubError('HUB_ERR_INVALID_SETTINGS', undefined, { problems });
    }
    const next = parsed.data;
    if (next.allowedGroups) {
      next.allowedGroups = [...new Set(next.allowedGroups)].sort();
      const missing: string[] = [];
      for (const g of next.allowedGroups) if (!(await this.hasGroup(g))) missing.push(g);
      if (missing.length) {
        throw new HubError('HUB_ERR_INVALID_SETTINGS', undefined, {
          problems: missing.map((g) => ({ field: 'allowedGroups', message: `no Linux group named "${g}" on this machine; create it first (groupadd ${g})` })),
        });
      }
    }
    const merged: SavedSettings = { ...(this.store.data.settings ?? {}), ...next };
    this.store.data.settings = merged;
    await this.store.commit();
    this.apply(next);
    const values = this.values();
    for (const l of this.listeners) l(values);
    return values;
  }

  private apply(s: SavedSettings): void {
    const l = this.live;
    if (s.cullerEnabled !== undefined) l.culler.enabled = s.cullerEnabled;
    if (s.idleTimeoutSeconds !== undefined) l.culler.idleTimeoutSeconds = s.idleTimeoutSeconds;
    if (s.spawnConcurrency !== undefined) l.spawner.concurrency = s.spawnConcurrency;
    if (s.activeServerLimit !== undefined) l.spawner.activeServerLimit = s.activeServerLimit;
    if (s.allowedGroups !== undefined) l.auth.allowedGroups = [...s.allowedGroups];
  }
}
