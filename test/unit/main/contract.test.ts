import { describe, expect, it } from 'vitest';
import { ContractError, EVENTS, INVOKE, isEventChannel, isInvokeChannel, unwrap, VALIDATORS, type InvokeChannel } from '../../../main/ipc/contract.js';

const bad = (c: InvokeChannel, args: unknown[]) => {
  try {
    VALIDATORS[c](args);
  } catch (err) {
    expect(err).toBeInstanceOf(ContractError);
    return (err as ContractError).code;
  }
  return 'accepted';
};

describe('IPC contract', () => {
  it('names channels domain:verb, with a validator for every request channel and no overlap with events', () => {
    const invoke = Object.values(INVOKE);
    const events = Object.values(EVENTS);
    for (const c of [...invoke, ...events]) expect(c).toMatch(/^[a-z]+:[a-z-]+$/);
    expect(Object.keys(VALIDATORS).sort()).toEqual([...invoke].sort());
    expect(invoke.filter((c) => (events as string[]).includes(c))).toEqual([]);
    expect(isInvokeChannel('hub:status')).toBe(true);
    expect(isInvokeChannel('hub:status-changed')).toBe(false);
    expect(isEventChannel('terminal:data')).toBe(true);
    expect(isInvokeChannel('__proto__')).toBe(false);
    expect(isInvokeChannel(42)).toBe(false);
  });

  it('validates terminal:open as a Linux user name, never root', () => {
    expect(VALIDATORS['terminal:open'](['s01'])).toEqual(['s01']);
    expect(VALIDATORS['terminal:open'](['_a-b_9', { cols: 80, rows: 24 }])).toEqual(['_a-b_9', { cols: 80, rows: 24 }]);
    for (const name of ['root', 'Root', '1abc', '', 'a'.repeat(33), 'a b', 'a;rm', '../x', 'ä', 42, null, { toString: () => 's01' }]) {
      expect(bad('terminal:open', [name])).toBe('BAD_ARGS');
    }
    expect(bad('terminal:open', ['s01', { cols: 0, rows: 24 }])).toBe('BAD_ARGS');
    expect(bad('terminal:open', ['s01', { cols: 80.5, rows: 24 }])).toBe('BAD_ARGS');
    expect(bad('terminal:open', ['s01', undefined, 'extra'])).toBe('BAD_ARGS');
    expect(bad('terminal:open', [])).toBe('BAD_ARGS');
  });

  it('returns clean copies: extra fields of objects from the page are dropped', () => {
    const [, size] = VALIDATORS['terminal:resize'](['abc', { cols: 100, rows: 30, evil: 'x' }]);
    expect(size).toEqual({ cols: 100, rows: 30 });
  });

  it('checks ids, input size and counts', () => {
    expect(VALIDATORS['terminal:input'](['5f0c-aa', 'ls\n'])).toEqual(['5f0c-aa', 'ls\n']);
    expect(bad('terminal:input', ['x', 'a'.repeat(64 * 1024 + 1)])).toBe('BAD_ARGS');
    expect(bad('terminal:input', ['../../x', 'ls'])).toBe('BAD_ARGS');
    expect(bad('terminal:input', ['x', Buffer.from('ls')])).toBe('BAD_ARGS');
    expect(bad('installer:cancel', [])).toBe('BAD_ARGS');
    expect(bad('hub:status', ['anything'])).toBe('BAD_ARGS');
    expect(bad('app:open-external', ['https://evil.example'])).toBe('BAD_ARGS');
    expect(VALIDATORS['hub:log-tail']([])).toEqual([]);
    expect(VALIDATORS['hub:log-tail']([50])).toEqual([50]);
    expect(bad('hub:log-tail', [0])).toBe('BAD_ARGS');
    expect(bad('hub:log-tail', ['50'])).toBe('BAD_ARGS');
    expect(VALIDATORS['installer:run']([{ cols: 120, rows: 40 }])).toEqual([{ cols: 120, rows: 40 }]);
  });

  it('unwrap gives the value or an Error carrying the code', () => {
    expect(unwrap({ ok: true, value: 3 })).toBe(3);
    expect(() => unwrap({ ok: false, error: { code: 'BUSY', message: 'the installer is already running' } })).toThrow(
      expect.objectContaining({ code: 'BUSY', message: 'the installer is already running' }),
    );
  });
});
