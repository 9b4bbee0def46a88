/**
 * Which homes a run covers and which home a restore writes into. Only a home `safeHome` accepts
 * (a real directory strictly below /home, no symbolic links, owned by the account) is read or
 * written; system accounts and homes elsewhere (root's /root) are skipped on purpose, not failed.
 */
import { HOME_ROOT, safeHome } from '../accounts/homes.js';
import type { PasswdEntry } from '../admin/passwd-index.js';
import { HubError } from '../errors.js';
import type { RestoreAccount } from './restore.js';
import type { HomeTarget } from './runner.js';

/** The home to back up for `user`, or why not. */
export async function homeTarget(user: string, acct: PasswdEntry | undefined, minUid: number): Promise<HomeTarget> {
  if (!acct) return { user, home: null, skip: 'no Linux account' };
  if (acct.uid < minUid) return { user, home: null, skip: `a system account (uid ${acct.uid} < ${minUid}); not backed up` };
  if (!acct.home.startsWith(`${HOME_ROOT}/`)) return { user, home: null, skip: `the home ${acct.home} is not under ${HOME_ROOT}; not backed up` };
  try {
    const home = await safeHome(acct);
    return home ? { user, home } : { user, home: null, skip: `no home directory (${acct.home})` };
  } catch (err) {
    return { user, home: null, fail: (err as Error).message };
  }
}

/** The account and checked home a restore writes into; throws a HubError a person can act on. */
export async function restoreAccount(user: string, acct: PasswdEntry | undefined, minUid: number): Promise<RestoreAccount> {
  if (!acct) throw new HubError('HUB_ERR_NOT_FOUND', `${user} has no Linux account to restore into.`);
  if (acct.uid < minUid) throw new HubError('HUB_ERR_ACCOUNT_PROTECTED', `${user} is a system account; LabHub does not restore into it.`);
  const home = await safeHome(acct);
  if (!home) throw new HubError('HUB_ERR_NOT_FOUND', `${user} has no home directory (${acct.home}); create it first.`);
  return { name: user, uid: acct.uid, gid: acct.gid, home };
}
