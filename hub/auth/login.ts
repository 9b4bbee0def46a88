/**
 * The login decision: lockouts, then who may log in (uid ≥ minUid, never root, not locked or
 * expired, allowed groups), then PAM. Root and system accounts are refused without asking PAM, with
 * the same message as a wrong password so that a login form cannot be used to probe accounts.
 */
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { isValidUserName, lookupAccount, type Account } from './accounts.js';
import type { LoginLimiter } from './login-limiter.js';
import type { Authenticator } from './pam.js';

export interface LoginPolicy {
  minUid: number;
  allowedGroups: readonly string[];
  adminUsers: readonly string[];
  adminGroups: readonly string[];
}

export interface LoginResult {
  account: Account;
  admin: boolean;
}

export class LoginService {
  constructor(
    private readonly store: Store,
    private readonly authenticator: Authenticator,
    private readonly limiter: LoginLimiter,
    private readonly policy: LoginPolicy,
    private readonly log: Logger,
    private readonly lookup: (name: string) => Promise<Account | null> = lookupAccount,
  ) {}

  /**
   * Returns the account on success (the caller must commit: it adds the session to the same write);
   * throws a HubError whose message can be shown on the login page.
   */
  async login(rawName: string, password: string, address: string): Promise<LoginResult> {
    const name = rawName.trim();
    const lock = this.limiter.lockedOut(name, address);
    if (lock) throw lockoutError(lock.until);
    if (!name || !password) throw new HubError('HUB_ERR_LOGIN_FAILED', 'Enter your user name and password.');

    const account = isValidUserName(name) ? await this.lookup(name) : null;
    const allowedAccount = account && account.uid !== 0 && account.uid >= this.policy.minUid && account.name !== 'root';
    const passwordOk = allowedAccount ? await this.authenticator.authenticate(name, password, address) : false;

    if (!account || !allowedAccount || !passwordOk) {
      const started = this.limiter.recordFailure(name, address);
      await this.store.commit();
      this.log.info({ user: name, address, reason: !account ? 'unknown' : !allowedAccount ? 'system account' : 'password' }, 'login failed');
      if (started) throw lockoutError(started.until);
      throw new HubError('HUB_ERR_LOGIN_FAILED', 'Invalid user name or password.');
    }
    // the password was right: from here on the student is told exactly what is wrong
    if (account.locked) {
      throw new HubError('HUB_ERR_ACCOUNT_NOT_ALLOWED', 'This account is locked. Ask the lab administrator to unlock it.');
    }
    if (account.expired) {
      throw new HubError('HUB_ERR_ACCOUNT_NOT_ALLOWED', 'This account has expired. Ask the lab administrator to renew it.');
    }
    const admin = this.policy.adminUsers.includes(name) || account.groupNames.some((g) => this.policy.adminGroups.includes(g));
    if (this.policy.allowedGroups.length && !admin && !account.groupNames.some((g) => this.policy.allowedGroups.includes(g))) {
      throw new HubError(
        'HUB_ERR_ACCOUNT_NOT_ALLOWED',
        'Your account is not in a class that may use this LabHub. Ask your instructor to add you.',
      );
    }
    this.limiter.recordSuccess(name);
    const now = new Date().toISOString();
    const user = this.store.data.users[name];
    if (user) user.admin = admin || !!user.adminByApi;
    else this.store.data.users[name] = { name, created: now, lastActivity: now, admin };
    // no commit here: the caller creates the session and commits both in one durable write
    this.log.info({ user: name, address, admin }, 'login');
    return { account, admin: this.store.data.users[name]!.admin };
  }
}

function lockoutError(until: Date): HubError {
  const minutes = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 60_000));
  return new HubError(
    'HUB_ERR_LOCKED_OUT',
    `Too many failed logins. Login is blocked for ${minutes} more minute${minutes === 1 ? '' : 's'}; try again later or ask your instructor.`,
  );
}
