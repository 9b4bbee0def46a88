import { describe, expect, it } from 'vitest';
import { classifyFailure, lockHolder, maskRepository, parseJsonLines, resticEnv, stderrSummary } from '../../../hub/backup/restic.js';
import { parseBackupErrors, parseBackupSummary, parseConfigId, parseForgetRemoved, parseLsNodes, parseSnapshots } from '../../../hub/backup/restic-output.js';

const ID = 'fcf3d8730c74533b3dd4b1ef65b55e0c93e86c58786b6dca6dba09c8e9030665';

describe('restic output (0.14 JSON)', () => {
  it('reads the backup summary', () => {
    const out = [
      '{"message_type":"status","percent_done":0.5}',
      '{"message_type":"summary","files_new":2,"files_changed":1,"files_unmodified":7,"dirs_new":2,"data_added":1395,"total_files_processed":10,"total_bytes_processed":5,"total_duration":0.21,"snapshot_id":"461a7f8b"}',
    ].join('\n');
    expect(parseBackupSummary(out)).toEqual({ snapshotId: '461a7f8b', filesNew: 2, filesChanged: 1, filesUnmodified: 7, dataAdded: 1395, totalBytesProcessed: 5, totalDuration: 0.21 });
    expect(parseBackupSummary('{"message_type":"status"}\nFatal: boom')).toBeNull();
  });

  it('names the files a backup could not read, relative to the home', () => {
    const err = [
      '{"message_type":"error","error":{"Op":"lstat","Path":"/home/ada/f46","Err":2},"during":"archival","item":"/home/ada/f46"}',
      '{"message_type":"error","error":{"Op":"open","Path":"/home/ada/x y","Err":13},"during":"archival","item":"/home/ada/x y"}',
      '{"message_type":"error","error":{"Op":"lstat","Path":"/home/ada/x y","Err":13},"during":"archival","item":"/home/ada/x y"}',
      '{"message_type":"error","error":{},"during":"scan","item":"/home/ada/z"}',
      'Warning: at least one source file could not be read',
    ].join('\n');
    expect(parseBackupErrors(err, '/home/ada')).toEqual([
      '/f46: it disappeared during the backup',
      '/x y: permission denied',
      '/z: could not be read (while counting files)',
    ]);
  });

  it('reads snapshots (oldest first) and skips malformed ones', () => {
    const text = JSON.stringify([
      { id: ID, short_id: 'fcf3d873', time: '2026-11-22T03:09:40Z', paths: ['/home/ada'], hostname: 'labhub', tags: ['user=ada'] },
      { id: 'a'.repeat(64), time: '2026-11-21T03:09:40Z', paths: ['/home/ada'], hostname: 'labhub', tags: null },
      { id: 'not-an-id' },
    ]);
    const s = parseSnapshots(text);
    expect(s.map((x) => x.shortId)).toEqual(['aaaaaaaa', 'fcf3d873']);
    expect(s[0]!.tags).toEqual([]);
    expect(parseSnapshots('garbage')).toEqual([]);
  });

  it('reads ls nodes without the snapshot line', () => {
    const text = [
      `{"time":"2026","paths":["/home/ada"],"id":"${ID}","struct_type":"snapshot"}`,
      '{"name":"ada","type":"dir","path":"/home/ada","permissions":"drwx------","mtime":"2026","struct_type":"node"}',
      '{"name":"a.txt","type":"file","path":"/home/ada/a.txt","size":3,"permissions":"-rw-r--r--","mtime":"2026","struct_type":"node"}',
    ].join('\n');
    expect(parseLsNodes(text)).toEqual([
      { name: 'ada', type: 'dir', path: '/home/ada', size: null, permissions: 'drwx------', mtime: '2026' },
      { name: 'a.txt', type: 'file', path: '/home/ada/a.txt', size: 3, permissions: '-rw-r--r--', mtime: '2026' },
    ]);
  });

  it('counts what forget removed (prune text after the JSON)', () => {
    const text = `[{"tags":["user=a"],"keep":[{}],"remove":[{},{}]},{"tags":["labhub-state"],"keep":[{}],"remove":null}]\nloading indexes...\ndone\n`;
    expect(parseForgetRemoved(text)).toBe(2);
  });

  it('reads the repository id', () => {
    expect(parseConfigId(`{\n  "version": 2,\n  "id": "${ID}",\n  "chunker_polynomial": "24fd48b1dd6cd7"\n}\n`)).toBe(ID);
    expect(parseConfigId('nope')).toBeNull();
  });

  it('skips non-JSON lines', () => {
    expect(parseJsonLines('a\n{"x":1}\n{broken\n[1]')).toEqual([{ x: 1 }, [1]]);
  });
});

describe('restic failures', () => {
  it('are classified from restic 0.14’s words', () => {
    expect(classifyFailure('Fatal: wrong password or no key found\n')).toBe('wrong-password');
    expect(classifyFailure('Fatal: unable to open config file: stat /m/repo/config: no such file or directory\nIs there a repository at the following location?\n/m/repo')).toBe('no-repository');
    expect(classifyFailure('unable to create lock in backend: repository is already locked by PID 1 on vm by root (UID 0, GID 0)')).toBe('locked');
    expect(classifyFailure('Fatal: unable to save snapshot: write /m/repo/data/ab/x: no space left on device')).toBe('disk-full');
    expect(classifyFailure('', 'ENOENT')).toBe('not-installed');
    expect(classifyFailure('Fatal: something else')).toBe('other');
  });

  it('name the holder of a lock', () => {
    const text = 'unable to create lock in backend: repository is already locked by PID 21936 on vm by root (UID 0, GID 0)\nlock was created at 2026-11-22 03:13:48 (449.78298ms ago)\nstorage ID 3728aece';
    expect(lockHolder(text)).toBe('PID 21936 on vm by root (UID 0, GID 0), since 2026-11-22 03:13:48');
    expect(lockHolder('repository is already locked exclusively by PID 5 on h by root (UID 0, GID 0)')).toBe('PID 5 on h by root (UID 0, GID 0)');
  });

  it('keep stderr to its words (no JSON or progress lines)', () => {
    expect(stderrSummary('{"message_type":"error"}\n[0:01] 50%\nFatal: boom\n')).toBe('Fatal: boom');
    expect(stderrSummary('x'.repeat(700)).length).toBe(601);
  });
});

describe('restic environment', () => {
  it('has the password only as a file path, and the repository settings win over the config environment', () => {
    const env = resticEnv({ binary: 'restic', repository: '/r', passwordFile: '/p', cacheDir: '/c', environment: { RESTIC_REPOSITORY: '/other', AWS_ACCESS_KEY_ID: 'k' } });
    expect(env).toMatchObject({ RESTIC_REPOSITORY: '/r', RESTIC_PASSWORD_FILE: '/p', RESTIC_CACHE_DIR: '/c', AWS_ACCESS_KEY_ID: 'k', LC_ALL: 'C' });
    expect(env.RESTIC_PASSWORD).toBeUndefined();
  });

  it('masks credentials in a repository URL', () => {
    expect(maskRepository('rest:https://backup:s3cret@host:8000/labhub')).toBe('rest:https://backup:***@host:8000/labhub');
    expect(maskRepository('/var/backups/labhub/restic')).toBe('/var/backups/labhub/restic');
    expect(maskRepository('sftp:user@host:/srv/restic')).toBe('sftp:user@host:/srv/restic');
  });
});
