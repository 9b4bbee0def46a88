/**
 * When to restart a crashed hub and when to give up. Restarts back off exponentially (1 s, 2 s,
 * 4 s … capped); `maxCrashes` crashes within `windowMs` is a crash loop: restarting forever would
 * only hide a broken config or a full disk behind a spinning status, so the supervisor stops and
 * shows the last output instead. Pure (times are passed in), so it is unit-tested.
 */
export interface CrashPolicyOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  maxCrashes: number;
  windowMs: number;
}

export const DEFAULT_CRASH_POLICY: Readonly<CrashPolicyOptions> = Object.freeze({
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  maxCrashes: 5,
  windowMs: 120_000,
});

export type CrashDecision = { action: 'restart'; delayMs: number; recentCrashes: number } | { action: 'give-up'; recentCrashes: number };

/** Remembers crash times and decides what to do after each. */
export class CrashPolicy {
  private crashes: number[] = [];

  constructor(readonly options: Readonly<CrashPolicyOptions> = DEFAULT_CRASH_POLICY) {
    if (options.maxCrashes < 1 || options.initialDelayMs < 0 || options.maxDelayMs < options.initialDelayMs) {
      throw new Error('CrashPolicy: need maxCrashes >= 1 and 0 <= initialDelayMs <= maxDelayMs');
    }
  }

  /** Records a crash at `now` (ms) and decides. */
  onCrash(now: number): CrashDecision {
    this.crashes = this.crashes.filter((t) => now - t < this.options.windowMs);
    this.crashes.push(now);
    const recentCrashes = this.crashes.length;
    if (recentCrashes >= this.options.maxCrashes) return { action: 'give-up', recentCrashes };
    const delayMs = Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** (recentCrashes - 1));
    return { action: 'restart', delayMs, recentCrashes };
  }

  /** Forgets the history (a start by hand after a crash loop). */
  reset(): void {
    this.crashes = [];
  }
}
