import { describe, expect, it } from 'vitest';
import { LineRing } from '../../../main/line-ring.js';

describe('LineRing', () => {
  it('keeps the last N lines across chunk boundaries, with an unfinished last line', () => {
    const r = new LineRing(3);
    r.push('one\ntw');
    r.push('o\r\nthree\nfour\nfi');
    expect(r.lines()).toEqual(['two', 'three', 'four', 'fi']);
    expect(r.lines(2)).toEqual(['four', 'fi']);
    r.push('ve\n');
    expect(r.lines()).toEqual(['three', 'four', 'five']);
  });

  it('wraps many times and cuts runaway lines', () => {
    const r = new LineRing(5, 10);
    for (let i = 0; i < 1000; i++) r.push(`line ${i}\n`);
    expect(r.lines()).toEqual(['line 995', 'line 996', 'line 997', 'line 998', 'line 999']);
    r.push(`${'x'.repeat(50)}\n`);
    expect(r.lines(1)).toEqual([`${'x'.repeat(10)} …[cut]`]);
    r.clear();
    expect(r.lines()).toEqual([]);
  });

  it('needs a positive capacity', () => {
    expect(() => new LineRing(0)).toThrow();
  });
});
