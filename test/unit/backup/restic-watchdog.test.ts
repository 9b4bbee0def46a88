/**
 * The stall watchdog, with a stand-in for restic (a shell script that prints the same progress line
 * forever, as restic 0.14 does when it hangs after a failed write; the real hang only happens now
 * and then, see backup-failures.test.ts), and the message it leads to.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stallText } from '../../../hub/backup/repository.js';
import { Restic } from '../../../hub/backup/restic.js';
import { silentLogger } from '../../../hub/log.js';

const dir = mkdtempSync(join(tmpdir(), 'labhub-watchdog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fake(script: string): Restic {
  const bin = join(dir, `restic-${Math.random().toString(36).slice(2)}`);
  writeFileSync(bin, `#!/bin/sh\n${script}\n`);
  chmodSync(bin, 0o755);
  return new Restic({ binary: bin, repository: join(dir, 'repo'), passwordFile: '/nonexistent', cacheDir: dir, environment: {} }, silentLogger());
}

const STATUS = (n: number) => `{"message_type":"status","seconds_elapsed":1,"percent_done":1,"total_files":2,"files_done":2,"total_bytes":${n},"bytes_done":${n}}`;

describe('the stall watchdog', () => {
  it('interrupts a backup whose progress stands still, with SIGINT', async () => {
    const r = await fake(`trap 'echo "signal interrupt received, cleaning up" >&2; exit 130' INT\nwhile :; do echo '${STATUS(1000)}'; sleep 0.1; done`).run(['backup', '--json'], { stallMs: 600 });
    expect(r.stalled).toMatchObject({ bytesDone: 1000 });
    expect(r.code).toBe(130);
    expect(r.stdout).toBe(''); // progress lines are not kept
  });

  it('leaves a backup alone while its progress moves', async () => {
    const r = await fake(`i=0; while [ $i -lt 12 ]; do i=$((i+1)); echo "$(printf '${STATUS(0).replace('"bytes_done":0', '"bytes_done":%s')}' $i)"; sleep 0.1; done; echo '{"message_type":"summary","snapshot_id":"abcd1234"}'`).run(
      ['backup', '--json'],
      { stallMs: 600 },
    );
    expect(r.stalled).toBeUndefined();
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('{"message_type":"summary","snapshot_id":"abcd1234"}');
  });

  it('explains the stop, naming a full disk when it has less room than restic had read', async () => {
    expect(await stallText(join(dir, 'repo'), { seconds: 600, bytesDone: 10 })).toMatch(/^restic made no progress for 600 s and was stopped .*; \d+ MiB free of \d+ MiB on the disk of /);
    expect(await stallText(join(dir, 'repo'), { seconds: 600, bytesDone: 1e18 })).toMatch(/^the backup disk may be full: restic made no progress/);
    expect(await stallText('sftp:host:/r', { seconds: 5, bytesDone: 0 })).toMatch(/is the backup repository sftp:host:\/r reachable\?$/);
  });
});
