import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../hub/config.js';
import { HubError } from '../../../hub/errors.js';
import { RuntimeSettings } from '../../../hub/settings/runtime-settings.js';
import { Store } from '../../../hub/store/store.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'labhub-settings-'));
const groups = new Set(['cs101', 'staff']);
const hasGroup = async (g: string) => groups.has(g);
const baseConfig = () => parseConfig(({ culler: { idleTimeoutSeconds: 3600 }, auth: { allowedGroups: ['staff'] } }));

describe('RuntimeSettings', () => {
  it('starts from the config file, applies a valid change in place, and persists it', async () => {
    const dir = fresh();
    const store = await Store.open(dir);
    const s = new RuntimeSettings(baseConfig(), store, hasGroup);
    const auth = s.live.auth;
    expect(s.values()).toMatchObject({ idleTimeoutSeconds: 3600, allowedGroups: ['staff'], cullerEnabled: true });
    const seen: unknown[] = [];
    s.onChange((v) => seen.push(v));
    await s.update({ idleTimeoutSeconds: 900, allowedGroups: ['cs101', 'cs101'] });
    // the same live objects the hub's components hold are changed
    expect(auth.allowedGroups).toEqual(['cs101']);
    expect(s.live.culler.idleTimeoutSeconds).toBe(900);
    expect(s.saved()).toEqual(['allowedGroups', 'idleTimeoutSeconds']);
    expect(seen).toHaveLength(1);
    await store.close();

    const again = await Store.open(dir);
    const s2 = new RuntimeSettings(baseConfig(), again, hasGroup);
    expect(s2.values()).toMatchObject({ idleTimeoutSeconds: 900, allowedGroups: ['cs101'] });
    await again.close();
  });

  it('rejects the whole change with a problem per field and changes nothing', async () => {
    const store = await Store.open(fresh());
    const s = new RuntimeSettings(baseConfig(), store, hasGroup);
    const err = await s.update({ idleTimeoutSeconds: 10, spawnConcurrency: 2, colour: 'red' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('HUB_ERR_INVALID_SETTINGS');
    expect((err as HubError).problems!.map((p) => p.field).sort()).toEqual(['colour', 'idleTimeoutSeconds']);
    const missing = await s.update({ allowedGroups: ['nosuch'] }).catch((e: unknown) => e as HubError);
    expect((missing as HubError).problems![0]!.message).toContain('groupadd nosuch');
    const badName = await s.update({ allowedGroups: ['../etc'] }).catch((e: unknown) => e as HubError);
    expect((badName as HubError).code).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(s.values()).toMatchObject({ idleTimeoutSeconds: 3600, spawnConcurrency: 0, allowedGroups: ['staff'] });
    expect(store.data.settings).toEqual({});
    await store.close();
  });
});
