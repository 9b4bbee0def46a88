import { describe, expect, it } from 'vitest';
import { ConfirmTokens, inHome, isSnapshotId, normaliseHomePath, relativeToHome, restoredDirName } from '../../../hub/backup/restore-paths.js';

describe('paths inside a home', () => {
  it('are normalised to /a/b', () => {
    expect(normaliseHomePath(undefined)).toBe('/');
    expect(normaliseHomePath('')).toBe('/');
    expect(normaliseHomePath('/')).toBe('/');
    expect(normaliseHomePath('notebooks//week1/')).toBe('/notebooks/week1');
    expect(normaliseHomePath('/Übung 1 – Lösung.ipynb')).toBe('/Übung 1 – Lösung.ipynb');
    expect(normaliseHomePath('/a..b/.c')).toBe('/a..b/.c');
  });

  it('never climb out', () => {
    for (const bad of ['/..', '../x', '/a/../../etc', '/a/./b', '.']) expect(() => normaliseHomePath(bad), bad).toThrow(/"\." or "\.\."/);
    expect(() => normaliseHomePath('/a\0b')).toThrow(/NUL/);
    expect(() => normaliseHomePath(42)).toThrow(/string/);
    expect(() => normaliseHomePath('/x'.repeat(3000))).toThrow(/too long/);
  });

  it('map between the home and absolute paths', () => {
    expect(inHome('/home/ada', '/')).toBe('/home/ada');
    expect(inHome('/home/ada', '/a/b')).toBe('/home/ada/a/b');
    expect(relativeToHome('/home/ada', '/home/ada')).toBe('/');
    expect(relativeToHome('/home/ada', '/home/ada/x')).toBe('/x');
    expect(relativeToHome('/home/ada', '/home/adam/x')).toBeNull();
  });

  it('know a snapshot id and name the side folder', () => {
    expect(isSnapshotId('fcf3d873')).toBe(true);
    expect(isSnapshotId('f'.repeat(64))).toBe(true);
    expect(isSnapshotId('fcf3d87')).toBe(false);
    expect(isSnapshotId('latest')).toBe(false);
    expect(isSnapshotId('FCF3D873')).toBe(false);
    expect(restoredDirName(new Date('2026-11-22T03:10:00.123Z'))).toBe('restored-20261122T031000Z');
  });
});

describe('confirmation tokens', () => {
  const plan = { user: 'ada', snapshotId: 'f'.repeat(64), path: '/', overwrite: ['/a', '/b'] };

  it('confirm exactly the plan they were issued for', () => {
    const tokens = new ConfirmTokens();
    const t = tokens.issue(plan);
    expect(tokens.verify(t, plan)).toBe(true);
    expect(tokens.verify(t, { ...plan, overwrite: ['/b', '/a'] })).toBe(true);
    expect(tokens.verify(t, { ...plan, overwrite: ['/a'] })).toBe(false);
    expect(tokens.verify(t, { ...plan, user: 'bob' })).toBe(false);
    expect(tokens.verify(t, { ...plan, path: '/a' })).toBe(false);
    expect(tokens.verify(t, { ...plan, snapshotId: 'e'.repeat(64) })).toBe(false);
    expect(new ConfirmTokens().verify(t, plan)).toBe(false); // another key (a restarted hub)
  });

  it('expire and cannot be forged or stretched', () => {
    let now = 1_000_000;
    const tokens = new ConfirmTokens(undefined, 600_000, () => now);
    const t = tokens.issue(plan);
    const [exp, mac] = t.split('.');
    expect(tokens.verify(`${Number(exp) + 1000}.${mac}`, plan)).toBe(false);
    expect(tokens.verify(`${exp}.${'0'.repeat(64)}`, plan)).toBe(false);
    expect(tokens.verify(undefined, plan)).toBe(false);
    expect(tokens.verify('garbage', plan)).toBe(false);
    now += 600_001;
    expect(tokens.verify(t, plan)).toBe(false);
  });
});
