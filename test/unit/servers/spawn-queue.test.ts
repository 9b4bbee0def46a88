import { describe, expect, it } from 'vitest';
import { defaultConcurrency, formatWait, queueMessage, SpawnQueue, type QueuePosition } from '../../../hub/servers/spawn-queue.js';

/** Collects the positions each key was told, and whether/when it was admitted. */
function harness(q: SpawnQueue) {
  const told = new Map<string, QueuePosition[]>();
  const admitted: string[] = [];
  const results = new Map<string, boolean>();
  const join = (key: string) => {
    told.set(key, []);
    const p = q.acquire(key, (pos) => told.get(key)!.push(pos));
    void p.then((ok) => {
      results.set(key, ok);
      if (ok) admitted.push(key);
    });
    return p;
  };
  return { told, admitted, results, join };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('SpawnQueue', () => {
  it('admits up to `concurrency` at once and the rest strictly in arrival order', async () => {
    const q = new SpawnQueue({ concurrency: 2 });
    const h = harness(q);
    for (const k of ['a', 'b', 'c', 'd', 'e']) h.join(k);
    await tick();
    expect(h.admitted).toEqual(['a', 'b']);
    expect(q.counts()).toEqual({ starting: 2, queued: 3 });
    q.release('b', true);
    await tick();
    expect(h.admitted).toEqual(['a', 'b', 'c']);
    q.release('a', false);
    q.release('c', true);
    await tick();
    expect(h.admitted).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(q.counts()).toEqual({ starting: 2, queued: 0 });
  });

  it('a newcomer never overtakes those waiting, even when it arrives as a slot frees', async () => {
    const q = new SpawnQueue({ concurrency: 1 });
    const h = harness(q);
    h.join('a');
    h.join('b');
    q.release('a', true);
    h.join('late');
    await tick();
    expect(h.admitted).toEqual(['a', 'b']);
    expect(q.position('late')?.position).toBe(1);
  });

  it('tells each waiter its position when it joins and whenever it changes', async () => {
    const q = new SpawnQueue({ concurrency: 1 });
    const h = harness(q);
    for (const k of ['a', 'b', 'c', 'd']) h.join(k);
    expect(h.told.get('a')).toEqual([]);
    expect(h.told.get('d')!.map((p) => p.position)).toEqual([3]);
    q.release('a', true);
    expect(h.told.get('c')!.map((p) => p.position)).toEqual([2, 1]);
    expect(h.told.get('d')!.map((p) => p.position)).toEqual([3, 2]);
    expect(h.told.get('b')!.map((p) => p.position)).toEqual([1]);
    expect(q.position('b')).toBeNull();
    expect(q.isStarting('b')).toBe(true);
  });

  it('cancelling a waiter takes it out of line cleanly and moves up those behind it', async () => {
    const q = new SpawnQueue({ concurrency: 1 });
    const h = harness(q);
    for (const k of ['a', 'b', 'c', 'd']) h.join(k);
    expect(q.cancel('c')).toBe(true);
    await tick();
    expect(h.results.get('c')).toBe(false);
    expect(h.told.get('d')!.map((p) => p.position)).toEqual([3, 2]);
    expect(h.told.get('b')!.map((p) => p.position)).toEqual([1]);
    expect(q.counts()).toEqual({ starting: 1, queued: 2 });
    expect(q.cancel('c')).toBe(false);
    expect(q.cancel('a')).toBe(false); // starting, not waiting
    q.release('a', true);
    q.release('b', true);
    await tick();
    expect(h.admitted).toEqual(['a', 'b', 'd']);
    // the key may queue again later
    q.release('d', true);
    h.join('c');
    await tick();
    expect(h.admitted.at(-1)).toBe('c');
  });

  it('estimates the wait from the average of recent start durations divided by concurrency', () => {
    let now = 0;
    const q = new SpawnQueue({ concurrency: 2, initialStartSeconds: 3, window: 2, now: () => now });
    expect(q.estimateSeconds(4)).toBe(6); // 4 × 3 s / 2
    q.acquire('a', () => undefined);
    q.acquire('b', () => undefined);
    q.acquire('c', () => undefined);
    now = 4000;
    q.release('a', true); // 4 s
    now = 6000;
    q.release('b', true); // 6 s
    expect(q.averageStartMs()).toBe(5000);
    expect(q.estimateSeconds(7)).toBe(18); // ceil(7 × 5 / 2)
    now = 6100;
    q.release('c', false); // a failure does not count
    expect(q.averageStartMs()).toBe(5000);
    q.acquire('d', () => undefined);
    now = 8100;
    q.release('d', true); // 2 s; window of 2 keeps 6 s and 2 s
    expect(q.averageStartMs()).toBe(4000);
  });

  it('close ends every wait with false and refuses newcomers; started spawns may still release', async () => {
    const q = new SpawnQueue({ concurrency: 1 });
    const h = harness(q);
    h.join('a');
    h.join('b');
    q.close();
    await tick();
    expect(h.results.get('b')).toBe(false);
    expect(await q.acquire('c', () => undefined)).toBe(false);
    q.release('a', true);
    expect(q.counts()).toEqual({ starting: 0, queued: 0 });
  });

  it('refuses a second place for the same key', () => {
    const q = new SpawnQueue({ concurrency: 1 });
    q.acquire('a', () => undefined);
    expect(() => q.acquire('a', () => undefined)).toThrow(/already holds/);
  });

  it('sizes the default for the machine: cores + 1, at least 2', () => {
    expect(defaultConcurrency(1)).toBe(2);
    expect(defaultConcurrency(2)).toBe(3);
    expect(defaultConcurrency(8)).toBe(9);
    expect(new SpawnQueue({ concurrency: 0 }).concurrency).toBeGreaterThanOrEqual(2);
    expect(new SpawnQueue({ concurrency: 4 }).concurrency).toBe(4);
  });

  it('words the wait for students', () => {
    expect(formatWait(0.2)).toBe('about 1 s');
    expect(formatWait(7)).toBe('about 7 s');
    expect(formatWait(17)).toBe('about 20 s');
    expect(formatWait(95)).toBe('about 2 min');
    expect(queueMessage({ position: 7, estimateSeconds: 18 })).toBe('Waiting to start: you are number 7 in line (about 20 s)');
  });
});
