/**
 * Polls while the page is visible: runs `tick`, waits `intervalMs` after it settles (so a slow hub
 * never gets overlapping calls), pauses while the tab is hidden and resumes at once when it is
 * shown again. `stop()` ends it for good (views call it when they are left).
 */
export interface Poller {
  /** Runs a tick now (after an action) instead of waiting for the next one. */
  now(): void;
  stop(): void;
}

export function poll(tick: () => Promise<void>, intervalMs: number): Poller {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running = false;
  let again = false;
  let stopped = false;

  const schedule = () => {
    if (stopped || document.hidden) return;
    timer = setTimeout(run, intervalMs);
  };
  const run = async () => {
    timer = null;
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await tick();
    } catch {
      // the tick shows its own errors; polling goes on
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      void run();
    } else schedule();
  };
  const onVisibility = () => {
    if (document.hidden) {
      if (timer) clearTimeout(timer);
      timer = null;
    } else if (!timer && !running) void run();
  };
  document.addEventListener('visibilitychange', onVisibility);
  void run();
  return {
    now() {
      if (timer) clearTimeout(timer);
      void run();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    },
  };
}
