/**
 * The class-start queue: at most `concurrency` spawns are in their CPU-heavy starting phase at
 * once, and the rest wait in strict arrival order (FIFO), so nobody is turned away and early
 * students work while later ones wait their turn. A waiting spawn is told its position whenever it
 * changes, with an estimate from recent start durations.
 *
 * Why a bound at all: each single-user start costs ~1-1.5 CPU-seconds (importing the server). On
 * N cores, N starts at once already keep every core busy; starting 50 together only splits the CPU
 * fifty ways, so every student waits until nearly the end (JupyterHub 3.0's class start: per-student
 * median ≈ maximum) and slow starts run into the start timeout. Bounded, the class is done just as
 * soon while the median student is ready in about half the time.
 */
import { availableParallelism } from 'node:os';

/** Sized for the machine: one start per core keeps the CPU busy; one more covers the I/O waits of a start (exec, disk, HTTP probe) so a core never idles between two. */
export function defaultConcurrency(cores = availableParallelism()): number {
  return Math.max(2, cores + 1);
}

/** Where a waiting spawn stands: 1 = next to start. */
export interface QueuePosition {
  position: number;
  /** Estimated seconds until it starts. */
  estimateSeconds: number;
}

export interface SpawnQueueOptions {
  /** Starts at once; 0 = `defaultConcurrency()`. */
  concurrency: number;
  /** Start duration assumed until one has been measured (s); a cold start on a busy machine. */
  initialStartSeconds?: number;
  /** How many recent start durations the estimate averages. */
  window?: number;
  now?: () => number;
}

interface Waiter {
  key: string;
  onPosition: (p: QueuePosition) => void;
  resolve: (admitted: boolean) => void;
}

export class SpawnQueue {
  private limit: number;
  private readonly waiting: Waiter[] = [];
  /** Keys in their starting phase, with the time they were admitted. */
  private readonly active = new Map<string, number>();
  private readonly durations: number[] = [];
  private readonly window: number;
  private readonly initialMs: number;
  private readonly now: () => number;
  private closed = false;

  constructor(o: SpawnQueueOptions) {
    this.limit = o.concurrency > 0 ? o.concurrency : defaultConcurrency();
    this.initialMs = (o.initialStartSeconds ?? 3) * 1000;
    this.window = o.window ?? 10;
    this.now = o.now ?? Date.now;
  }

  /** Starts allowed at once. */
  get concurrency(): number {
    return this.limit;
  }

  /** Changes the limit at run time (0 = the default); a raised limit admits waiters at once. */
  setConcurrency(n: number): void {
    this.limit = n > 0 ? n : defaultConcurrency();
    this.admit();
  }

  /**
   * Waits for a starting slot. Resolves true once `key` may start (at once when a slot is free),
   * or false when it was cancelled or the queue closed. `onPosition` is called when it starts
   * waiting and again whenever its position changes. A key may hold one place at a time.
   */
  acquire(key: string, onPosition: (p: QueuePosition) => void): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.active.has(key) || this.waiting.some((w) => w.key === key)) throw new Error(`${key} already holds a place in the spawn queue`);
    if (this.active.size < this.concurrency && this.waiting.length === 0) {
      this.active.set(key, this.now());
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const waiter = { key, onPosition, resolve };
      this.waiting.push(waiter);
      this.tell(waiter, this.waiting.length);
    });
  }

  /**
   * A started spawn finished its starting phase (ready or failed): frees its slot for the next in
   * line. Only successful starts feed the estimate (a failure is often instant, or a timeout).
   */
  release(key: string, succeeded: boolean): void {
    const since = this.active.get(key);
    if (since === undefined) return;
    this.active.delete(key);
    if (succeeded) {
      this.durations.push(this.now() - since);
      if (this.durations.length > this.window) this.durations.shift();
    }
    this.admit();
  }

  /** Takes a waiting key out of line (its `acquire` resolves false); false when it was not waiting. */
  cancel(key: string): boolean {
    const i = this.waiting.findIndex((w) => w.key === key);
    if (i < 0) return false;
    const [w] = this.waiting.splice(i, 1);
    w!.resolve(false);
    this.tellFrom(i);
    return true;
  }

  /** Position of a waiting key, or null when it is not waiting (starting, or not in the queue). */
  position(key: string): QueuePosition | null {
    const i = this.waiting.findIndex((w) => w.key === key);
    return i < 0 ? null : { position: i + 1, estimateSeconds: this.estimateSeconds(i + 1) };
  }

  isStarting(key: string): boolean {
    return this.active.has(key);
  }

  counts(): { starting: number; queued: number } {
    return { starting: this.active.size, queued: this.waiting.length };
  }

  /** Mean of the recent start durations (ms). */
  averageStartMs(): number {
    if (!this.durations.length) return this.initialMs;
    return this.durations.reduce((a, b) => a + b, 0) / this.durations.length;
  }

  /**
   * Seconds until the spawn at `position` starts: `concurrency` starts finish every average start
   * duration, so the line moves by one every `average / concurrency`.
   */
  estimateSeconds(position: number): number {
    return Math.ceil((position * this.averageStartMs()) / this.concurrency / 1000);
  }

  /** Refuses new spawns and ends every wait with false; started spawns run on. */
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.resolve(false);
  }

  private admit(): void {
    let moved = false;
    while (this.active.size < this.concurrency && this.waiting.length) {
      const w = this.waiting.shift()!;
      this.active.set(w.key, this.now());
      w.resolve(true);
      moved = true;
    }
    if (moved) this.tellFrom(0);
  }

  private tellFrom(index: number): void {
    for (let i = index; i < this.waiting.length; i++) this.tell(this.waiting[i]!, i + 1);
  }

  private tell(w: Waiter, position: number): void {
    try {
      w.onPosition({ position, estimateSeconds: this.estimateSeconds(position) });
    } catch {
      // a listener's failure must not stall the queue
    }
  }
}

/** "about 20 s", "about 3 min": rounded so that the number does not flicker with every start. */
export function formatWait(seconds: number): string {
  if (seconds < 10) return `about ${Math.max(1, Math.ceil(seconds))} s`;
  if (seconds < 60) return `about ${Math.ceil(seconds / 5) * 5} s`;
  return `about ${Math.ceil(seconds / 60)} min`;
}

/** The message a waiting student reads on the spawn-pending page. */
export function queueMessage(p: QueuePosition): string {
  return `Waiting to start: you are number ${p.position} in line (${formatWait(p.estimateSeconds)})`;
}
