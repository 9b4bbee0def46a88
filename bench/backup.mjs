#!/usr/bin/env node
/**
 * Nightly backup speed (issue 5): LabHub's backup engine (restic, one snapshot per home) over
 * N homes × M MB, first a full backup, then a "nightly" one after 1 % of every home changed, side by
 * side with `tar czf` of the same homes. Real Linux users (`lhbenchbk*`, removed afterwards), the
 * real engine from `dist/` (`createBackupService`) with a fresh repository in a temp dir.
 *
 *   node bench/backup.mjs [--homes 50] [--mb 20] [--parallel N] [--cold] [--no-write] [--keep]
 *
 * `--cold` empties the page cache (sync; drop_caches) before each of the three measurements, as on a
 * lab server at night when the homes were last read hours ago; without it all three read warm data.
 *
 * Each home holds 100 files: half random bytes (like images and data files), half text (like
 * notebooks and code). "1 % changed" rewrites one of the 100 files of every home (a text one) and
 * appends to a second.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineNote } from './lib/harness.mjs';
import { parseArgs } from './lib/labhub-bench-args.mjs';
import { appendRun } from './lib/labhub-bench-results.mjs';
import { checkBuild, REPO } from './lib/labhub-hub.mjs';
import { createUsers, removeUsers, withCleanup } from './lib/labhub-bench-sys.mjs';

const args = parseArgs(process.argv.slice(2), { homes: 50, mb: 20, parallel: 0, cold: false, noWrite: false, keep: false });
const HOMES = Number(args.homes);
const MB = Number(args.mb);
const FILES = 100;
const PREFIX = 'lhbenchbk';

checkBuild();
const { parseConfig } = await import(join(REPO, 'dist/hub/config.js'));
const { Store } = await import(join(REPO, 'dist/hub/store/store.js'));
const { silentLogger } = await import(join(REPO, 'dist/hub/log.js'));
const { createBackupService } = await import(join(REPO, 'dist/hub/backup/service.js'));

const du = (path) => Number(spawnSync('du', ['-s', '--block-size=1', path], { encoding: 'utf8' }).stdout.split('\t')[0]);
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);
const text = (size) => {
  const line = 'for i in range(10):\n    print("step", i, x[i] * 2)  # a notebook cell of a student\n';
  let s = '';
  while (s.length < size) s += `${line}${randomBytes(12).toString('hex')}\n`;
  return s.slice(0, size);
};

function fillHome(user) {
  const per = Math.floor((MB * 1024 * 1024) / FILES);
  const dir = join(user.home, 'work');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < FILES; i++) {
    const file = join(dir, i % 2 ? `data-${i}.bin` : `notebook-${i}.ipynb`);
    writeFileSync(file, i % 2 ? randomBytes(per) : text(per));
    chownSync(file, user.uid, user.gid);
  }
  chownSync(dir, user.uid, user.gid);
}

function changeOnePercent(user) {
  const per = Math.floor((MB * 1024 * 1024) / FILES);
  writeFileSync(join(user.home, 'work', 'notebook-0.ipynb'), text(per));
  appendFileSync(join(user.home, 'work', 'notebook-2.ipynb'), text(4096));
}

function dropCaches() {
  if (!args.cold) return;
  spawnSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

async function timedRun(service) {
  dropCaches();
  const t0 = process.hrtime.bigint();
  const started = await service.runNow({ by: 'bench' });
  const record = await service.waitForRun(started.id);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const failed = record.results.filter((r) => r.status !== 'ok');
  if (record.status !== 'ok' || failed.length) throw new Error(`backup run ${record.status}: ${record.message} ${JSON.stringify(failed.slice(0, 3))}`);
  return { seconds, bytesAdded: record.bytesAdded };
}

function timedTar(homes, out) {
  dropCaches();
  const t0 = process.hrtime.bigint();
  const r = spawnSync('tar', ['czf', out, '-C', '/home', ...homes.map((h) => h.name)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, bytes: statSync(out).size };
}

const work = mkdtempSync(join(tmpdir(), 'labhub-bench-backup-'));
await withCleanup(
  async () => {
    removeUsers(PREFIX);
    if (!args.keep) rmSync(work, { recursive: true, force: true });
  },
  async () => {
    console.log(`creating ${HOMES} homes × ${MB} MB …`);
    const users = createUsers(HOMES, PREFIX);
    for (const u of users) fillHome(u);
    spawnSync('sync');
    const dataDir = join(work, 'data');
    const repository = join(work, 'repo');
    const config = parseConfig({ dataDir, logDir: join(work, 'log'), backup: { repository, ...(args.parallel ? { parallel: Number(args.parallel) } : {}) } });
    const store = await Store.open(dataDir);
    const now = new Date().toISOString();
    for (const u of users) store.data.users[u.name] = { name: u.name, created: now, lastActivity: null, admin: false };
    await store.commit();
    const service = createBackupService({ config, store, log: silentLogger() });

    console.log('first (full) backup …');
    const full = await timedRun(service);
    const repoAfterFull = du(repository);
    for (const u of users) changeOnePercent(u);
    spawnSync('sync');
    console.log('nightly backup after 1 % changed …');
    const nightly = await timedRun(service);
    const repoAfterNightly = du(repository);
    console.log('tar czf of the same homes …');
    const tar = timedTar(users, join(work, 'homes.tar.gz'));
    await service.close();
    await store.close();

    const ratio = nightly.seconds / full.seconds;
    const vsTar = tar.seconds / nightly.seconds;
    const rows = [
      ['full first backup (restic, per-home snapshots)', `${full.seconds.toFixed(1)} s`, `${mb(full.bytesAdded)} MB added; repository ${mb(repoAfterFull)} MB`],
      ['nightly backup, 1 % of every home changed', `${nightly.seconds.toFixed(1)} s`, `${mb(nightly.bytesAdded)} MB added; repository +${mb(repoAfterNightly - repoAfterFull)} MB`],
      ['`tar czf` of the same homes', `${tar.seconds.toFixed(1)} s`, `${mb(tar.bytes)} MB archive`],
    ];
    const block = [
      `### Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `${machineNote()}. ${HOMES} homes × ${MB} MB (${FILES} files each, half random, half text); ${config.backup.parallel} homes at a time; page cache ${args.cold ? 'emptied before each measurement (--cold)' : 'warm'}.`,
      '',
      '| what | time | size |',
      '|---|---|---|',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      `Nightly / full: ${(ratio * 100).toFixed(1)} % (target < 10 %: ${ratio < 0.1 ? 'met' : '**not met**'}). ` +
        `tar czf / nightly: ${vsTar.toFixed(1)}× (target ≥ 5×: ${vsTar >= 5 ? 'met' : '**not met**'}).`,
    ].join('\n');
    console.log(`\n${block}\n`);
    if (!args.noWrite) {
      appendRun(
        'Backups: nightly incremental vs full and tar',
        '`node bench/backup.mjs [--homes 50] [--mb 20]`. Real Linux users, the real backup engine from `dist/` (`createBackupService`, restic 0.14 from Debian, one snapshot per home, excludes as configured by default) into a fresh local repository; the page cache is warm for all three (the homes were just written), or with `--cold` emptied before each of the three. "Nightly" runs after one of the 100 files of every home was rewritten and another appended to (about 1 % of the bytes). `tar czf` archives the same homes to the same disk.',
        block,
      );
      console.log('results appended to bench/RESULTS.md (## Backups: nightly incremental vs full and tar)');
    }
  },
);
