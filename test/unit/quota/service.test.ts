import { describe, expect, it } from 'vitest';
import { parseLimitsPatch } from '../../../hub/api/quota.js';
import { effectiveLimits, mergePolicy } from '../../../hub/quota/policy.js';
import { usageMessage, usageState } from '../../../hub/quota/service.js';
import { formatSize, parseSize } from '../../../hub/quota/size.js';

const M = 2 ** 20;
const limits = { diskSoft: 2 * M, diskHard: 4 * M, memory: 0, cpus: 0 };

describe('sizes', () => {
  it('parses and formats binary sizes', () => {
    expect(parseSize('5G')).toBe(5 * 2 ** 30);
    expect(parseSize('1.5GiB')).toBe(1.5 * 2 ** 30);
    expect(parseSize('500m')).toBe(500 * M);
    expect(parseSize(4096)).toBe(4096);
    expect(parseSize('five')).toBeNull();
    expect(parseSize(-1)).toBeNull();
    expect(formatSize(4 * M)).toBe('4M');
    expect(formatSize(0)).toBe('0');
  });
});

describe('usage state and message', () => {
  it('classifies against soft and hard', () => {
    expect(usageState(M, limits)).toBe('ok');
    expect(usageState(3 * M, limits)).toBe('over-soft');
    expect(usageState(5 * M, limits)).toBe('over-hard');
    expect(usageState(5 * M, { ...limits, diskSoft: 0, diskHard: 0 })).toBe('no-limit');
    expect(usageState(null, limits)).toBe('ok');
  });
  it('tells how much to free and how', () => {
    const msg = usageMessage(5 * M, limits, 'over-hard')!;
    expect(msg).toContain('uses 5M');
    expect(msg).toContain('limit of 4M');
    expect(msg).toContain('Free at least 1M');
    expect(msg).toContain('cleanup mode');
    expect(usageMessage(3 * M, limits, 'over-soft')).toContain('warning level of 2M');
    expect(usageMessage(M, limits, 'ok')).toBeNull();
  });
});

describe('limits patch from the API', () => {
  it('accepts sizes, bytes, cores and null', () => {
    expect(parseLimitsPatch({ diskSoft: '2M', diskHard: 4 * M, cpus: 1.5, memory: null })).toEqual({
      patch: { diskSoft: 2 * M, diskHard: 4 * M, cpus: 1.5, memory: null },
      problems: [],
    });
  });
  it('names every bad field', () => {
    const { problems } = parseLimitsPatch({ diskSoft: 'lots', cpus: -1, disk: 1 });
    expect(problems.map((p) => p.field).sort()).toEqual(['cpus', 'disk', 'diskSoft']);
    expect(parseLimitsPatch([]).problems).toHaveLength(1);
  });
});

describe('group override with saved state', () => {
  it('gives a teacher the group limit and a saved user override wins', () => {
    const policy = mergePolicy({ defaults: { diskHard: 4 * M }, groups: { teachers: { diskHard: 40 * M } }, users: {} }, { users: { bob: { diskHard: M } }, groups: {} });
    expect(effectiveLimits(policy, 'ann', ['teachers']).limits.diskHard).toBe(40 * M);
    expect(effectiveLimits(policy, 'ann', ['teachers']).sources.diskHard).toBe('group:teachers');
    expect(effectiveLimits(policy, 'bob', ['teachers']).limits.diskHard).toBe(M);
    expect(effectiveLimits(policy, 'cy', []).limits.diskHard).toBe(4 * M);
  });
});
