import { describe, expect, it } from 'vitest';
import { backupHomeArgs, backupStateArgs, forgetArgs, literalPattern, lsArgs, restoreArgs, snapshotsArgs } from '../../../hub/backup/restic-args.js';

describe('restic command lines', () => {
  it('backs up one home on one file system, tagged with the user, with the excludes and restore staging left out', () => {
    expect(backupHomeArgs('ada', '/home/ada', ['.cache', '__pycache__'])).toEqual([
      'backup', '--json', '--one-file-system', '--host', 'labhub', '--tag', 'user=ada',
      '--exclude', '.cache', '--exclude', '__pycache__', '--exclude', '/home/ada/.labhub-restore-*',
      '--', '/home/ada',
    ]);
  });

  it('backs up the hub state with its own tag', () => {
    expect(backupStateArgs(['/var/lib/labhub/state.json', '/etc/labhub/config.json'])).toEqual([
      'backup', '--json', '--host', 'labhub', '--tag', 'labhub-state', '--', '/var/lib/labhub/state.json', '/etc/labhub/config.json',
    ]);
  });

  it('applies retention per host and tags, only the rules that are set, and never a policy of zeros', () => {
    expect(forgetArgs({ daily: 7, weekly: 4, monthly: 6 })).toEqual([
      'forget', '--json', '--prune', '--host', 'labhub', '--group-by', 'host,tags', '--keep-daily', '7', '--keep-weekly', '4', '--keep-monthly', '6',
    ]);
    expect(forgetArgs({ daily: 1, weekly: 0, monthly: 0 })).toEqual(['forget', '--json', '--prune', '--host', 'labhub', '--group-by', 'host,tags', '--keep-daily', '1']);
    expect(forgetArgs({ daily: 0, weekly: 0, monthly: 0 })).toBeNull();
  });

  it('lists one user’s snapshots or the hub state’s', () => {
    expect(snapshotsArgs('ada')).toEqual(['snapshots', '--json', '--no-lock', '--host', 'labhub', '--tag', 'user=ada']);
    expect(snapshotsArgs(null)).toEqual(['snapshots', '--json', '--no-lock', '--host', 'labhub', '--tag', 'labhub-state']);
  });

  it('lists a folder, recursively only when asked', () => {
    expect(lsArgs('abcd1234', '/home/ada/x', false)).toEqual(['ls', '--json', 'abcd1234', '/home/ada/x']);
    expect(lsArgs('abcd1234', '/home/ada/x', true)).toEqual(['ls', '--json', '--recursive', 'abcd1234', '/home/ada/x']);
  });

  it('restores a literal path: glob characters in names are escaped', () => {
    expect(literalPattern('/home/ada/data[1]*?.txt')).toBe('/home/ada/data\\[1]\\*\\?.txt');
    expect(literalPattern('/home/ada/a\\b')).toBe('/home/ada/a\\\\b');
    expect(restoreArgs('f'.repeat(64), '/proc/1/fd/9/.staging', '/home/ada/Übung 1.ipynb')).toEqual([
      'restore', 'f'.repeat(64), '--target', '/proc/1/fd/9/.staging', '--include', '/home/ada/Übung 1.ipynb',
    ]);
  });
});
