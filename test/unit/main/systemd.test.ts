import { describe, expect, it } from 'vitest';
import { isSystemdBooted, isUnitInstalled, parseSystemctlShow } from '../../../main/systemd.js';

describe('systemd detection and systemctl show', () => {
  it('parses systemctl show output', () => {
    const s = parseSystemctlShow('MainPID=1234\nLoadState=loaded\nActiveState=active\nSubState=running\n');
    expect(s).toEqual({ loadState: 'loaded', activeState: 'active', subState: 'running', mainPid: 1234 });
    expect(isUnitInstalled(s)).toBe(true);
    const missing = parseSystemctlShow('MainPID=0\nLoadState=not-found\nActiveState=inactive\nSubState=dead\n');
    expect(missing.mainPid).toBeNull();
    expect(isUnitInstalled(missing)).toBe(false);
    expect(isUnitInstalled(null)).toBe(false);
    expect(parseSystemctlShow('')).toEqual({ loadState: 'unknown', activeState: 'unknown', subState: 'unknown', mainPid: null });
  });

  it('is booted with systemd when /run/systemd/system exists or PID 1 is systemd', () => {
    expect(isSystemdBooted((p) => p === '/run/systemd/system', () => 'init\n')).toBe(true);
    expect(isSystemdBooted(() => false, () => 'systemd\n')).toBe(true);
    expect(isSystemdBooted(() => false, () => 'tini\n')).toBe(false);
    expect(isSystemdBooted(() => false, () => {
      throw new Error('EACCES');
    })).toBe(false);
  });

  it('this machine (real check): systemd is not PID 1 here, so the supervisor runs labhub serve itself', () => {
    expect(isSystemdBooted()).toBe(false);
  });
});
