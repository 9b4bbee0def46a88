/**
 * Browse, plan and restore for one user at a time. Every call resolves the snapshot from that
 * user's own list first (see snapshots.ts), so one user's call never reaches another's snapshot.
 * An in-place restore needs the token of a plan whose overwrite list is still what the home holds
 * now; the list is computed again at restore time, so a changed home means "confirm again".
 */
import type { PasswdIndex } from '../admin/passwd-index.js';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { HomeInspector, overwritePlan } from './restore-plan.js';
import { ConfirmTokens, normaliseHomePath, restoredDirName } from './restore-paths.js';
import { restoreInPlace, restoreSide, type RestoreAccount } from './restore.js';
import type { Restic } from './restic.js';
import type { SnapshotCatalog, UserSnapshot } from './snapshots.js';
import { restoreAccount } from './targets.js';
import type { RestoreMode, RestorePlan, RestoreResult, SnapshotEntry } from './types.js';

export interface RestorerOptions {
  restic: Restic;
  catalog: SnapshotCatalog;
  log: Logger;
  now: () => Date;
  minUid: number;
  passwd: PasswdIndex;
  tokens?: ConfirmTokens;
}

export class BackupRestorer {
  private readonly tokens: ConfirmTokens;

  constructor(private readonly o: RestorerOptions) {
    this.tokens = o.tokens ?? new ConfirmTokens();
  }

  /** One folder of one of the user's snapshots. */
  async browse(user: string, snapshotId: string, path: string): Promise<SnapshotEntry[]> {
    const rel = normaliseHomePath(path);
    return this.o.catalog.browse(await this.o.catalog.resolve(user, snapshotId), rel);
  }

  /** What a restore would do; for in place, the overwrite list and its confirmation token. */
  async plan(user: string, snapshotId: string, path: string, mode: RestoreMode): Promise<RestorePlan> {
    checkMode(mode);
    const rel = normaliseHomePath(path);
    const snap = await this.o.catalog.resolve(user, snapshotId);
    const acct = await this.account(user);
    if (mode === 'side') {
      await this.o.catalog.node(snap, rel);
      return { user, snapshotId: snap.id, path: rel, mode, target: `${acct.home}/${restoredDirName(this.o.now())}`, overwrite: [], confirmToken: null };
    }
    const { overwrite } = await this.overwrites(snap, rel, acct);
    const confirmToken = this.tokens.issue({ user, snapshotId: snap.id, path: rel, overwrite });
    return { user, snapshotId: snap.id, path: rel, mode, target: acct.home, overwrite, confirmToken };
  }

  /** Restores; in place only with the token of a current plan (HUB_ERR_RESTORE_NOT_CONFIRMED otherwise). */
  async restore(user: string, snapshotId: string, path: string, mode: RestoreMode, confirmToken?: string): Promise<RestoreResult> {
    checkMode(mode);
    const rel = normaliseHomePath(path);
    const snap = await this.o.catalog.resolve(user, snapshotId);
    const acct = await this.account(user);
    let outcome;
    if (mode === 'side') {
      outcome = await restoreSide(this.o.restic, snap, rel, acct, this.o.now());
    } else {
      if (!confirmToken) throw new HubError('HUB_ERR_RESTORE_NOT_CONFIRMED', 'Restoring in place overwrites files: ask for the plan first and confirm it with its token.');
      const plan = await this.overwrites(snap, rel, acct);
      if (!this.tokens.verify(confirmToken, { user, snapshotId: snap.id, path: rel, overwrite: plan.overwrite })) {
        throw new HubError(
          'HUB_ERR_RESTORE_NOT_CONFIRMED',
          'This confirmation does not match what would be overwritten now (the files changed, or it expired after 10 minutes); review the plan again.',
        );
      }
      outcome = await restoreInPlace(this.o.restic, snap, rel, acct, plan.conflicts, this.o.now());
    }
    this.o.log.info({ user, snapshot: snap.shortId, path: rel, mode, target: outcome.target, files: outcome.files }, 'restored from backup');
    return { user, snapshotId: snap.id, path: rel, mode, ...outcome };
  }

  private async overwrites(snap: UserSnapshot, rel: string, acct: RestoreAccount) {
    const nodes = await this.o.catalog.tree(snap, rel);
    const inspector = new HomeInspector(acct.home);
    return overwritePlan(nodes, snap.home, rel, (p) => inspector.kind(p));
  }

  private async account(user: string): Promise<RestoreAccount> {
    return restoreAccount(user, (await this.o.passwd.get()).get(user), this.o.minUid);
  }
}

function checkMode(mode: unknown): asserts mode is RestoreMode {
  if (mode !== 'side' && mode !== 'in-place') throw new HubError('HUB_ERR_BAD_REQUEST', 'The restore mode is "side" (into ~/restored-<time>/) or "in-place".');
}
