import { describe, expect, it } from 'vitest';
import { CrashPolicy } from '../../../main/crash-policy.js';

describe('CrashPolicy', () => {
  const opts = { initialDelayMs: 1000, maxDelayMs: 5000, maxCrashes: 5, windowMs: 60_000 };

  it('backs off 1 s, 2 s, 4 s, capped, then gives up at K crashes within the window', () => {
    const p = new CrashPolicy(opts);
    expect([0, 1, 2, 3].map((i) => p.onCrash(i * 1000))).toEqual([
      { action: 'restart', delayMs: 1000, recentCrashes: 1 },
      { action: 'restart', delayMs: 2000, recentCrashes: 2 },
      { action: 'restart', delayMs: 4000, recentCrashes: 3 },
      { action: 'restart', delayMs: 5000, recentCrashes: 4 },
    ]);
    expect(p.onCrash(4000)).toEqual({ action: 'give-up', recentCrashes: 5 });
  });

  it('forgets crashes older than the window, so a rare crash restarts quickly', () => {
    const p = new CrashPolicy(opts);
    for (let i = 0; i < 4; i++) p.onCrash(i);
    expect(p.onCrash(10 * 60_000)).toEqual({ action: 'restart', delayMs: 1000, recentCrashes: 1 });
  });

  it('reset() clears the history (a start by hand)', () => {
    const p = new CrashPolicy({ ...opts, maxCrashes: 2 });
    p.onCrash(0);
    p.reset();
    expect(p.onCrash(1).action).toBe('restart');
    expect(p.onCrash(2).action).toBe('give-up');
  });

  it('rejects nonsense options', () => {
    expect(() => new CrashPolicy({ ...opts, maxCrashes: 0 })).toThrow();
    expect(() => new CrashPolicy({ ...opts, maxDelayMs: 10 })).toThrow();
  });
});
