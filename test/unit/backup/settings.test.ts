import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../hub/config.js';
import { effectiveSettings, mergePatch } from '../../../hub/backup/settings.js';

const file = parseConfig({ dataDir: '/tmp/x' }).backup;

describe('backup settings', () => {
  it('are the config file’s, with saved changes on top', () => {
    expect(effectiveSettings(file, {})).toEqual({
      enabled: true,
      schedule: '0 2 * * *',
      checkSchedule: '30 4 * * 0',
      retention: { daily: 7, weekly: 4, monthly: 6 },
      excludes: ['.cache', '__pycache__', '.local/share/Trash'],
      staleDays: 2,
    });
    expect(effectiveSettings(file, { schedule: '0 3 * * *', retention: { daily: 3 } })).toMatchObject({ schedule: '0 3 * * *', retention: { daily: 3, weekly: 4, monthly: 6 } });
  });

  it('merge a valid patch (retention field by field, excludes without duplicates)', () => {
    const saved = mergePatch({ retention: { weekly: 2 } }, { retention: { daily: 1 }, excludes: ['a', 'a', 'b'], schedule: '*/5 * * * * *' });
    expect(saved).toEqual({ retention: { weekly: 2, daily: 1 }, excludes: ['a', 'b'], schedule: '*/5 * * * * *' });
  });

  it('refuse a wrong patch as a whole, naming each field', () => {
    try {
      mergePatch({}, { schedule: 'every night', retention: { daily: -1 }, staleDays: 0, colour: 'red' });
      expect.unreachable();
    } catch (err) {
      const e = err as { code: string; problems: Array<{ field: string }> };
      expect(e.code).toBe('HUB_ERR_INVALID_SETTINGS');
      expect(e.problems.map((p) => p.field).sort()).toEqual(['colour', 'retention.daily', 'schedule', 'staleDays']);
    }
  });
});
