/**
 * `/hub/api/labhub/accounts…`: Linux accounts for a class, admin only (docs/admin-api.md,
 * "Accounts (Linux users)"). Preview a roster, create it (Linux account + group, hub user + hub
 * group), reset a password, remove a user with their home kept, archived or deleted.
 * One account change runs at a time: shadow-utils lock /etc/passwd and /etc/group, and a plan is
 * only valid until the next change. Passwords are answered once and never stored or logged.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { PasswdIndex } from '../admin/passwd-index.js';
import { LinuxAccounts } from '../accounts/linux-accounts.js';
import { generatePassword } from '../accounts/passwords.js';
import { passwordProblem, planRoster, previewRow, readRoster, summarizePlan, type PlannedRow, type RosterLookups } from '../accounts/roster.js';
import { isValidUserName } from '../auth/accounts.js';
import type { SessionManager } from '../auth/sessions.js';
import type { Config } from '../config.js';
import { errorCatalogue, HubError } from '../errors.js';
import type { IdentityResolver } from '../http/identity.js';
import type { Logger } from '../log.js';
import type { ServerManager } from '../servers/manager.js';
import type { Store } from '../store/store.js';
import type { TokenStore } from '../tokens/token-store.js';
import { jsonBody, requireAdmin } from './access.js';
import { forgetHubUser } from './users.js';

/** What the accounts API needs from the composition root (hub/server.ts). */
export interface AccountsRouterOptions {
  config: Readonly<Config>;
  store: Store;
  identity: IdentityResolver;
  servers: ServerManager;
  tokens: TokenStore;
  sessions: SessionManager;
  log: Logger;
  /** Told to forget its cached account list after each change (the Users table's source). */
  passwd?: PasswdIndex;
  /** The system side; by default real commands with `auth.minUid` and `dataDir` from the config. */
  accounts?: LinuxAccounts;
}

type RowStatus = 'created' | 'updated' | 'skipped' | 'failed';
interface RowResult {
  line: number;
  name: string;
  fullName: string;
  group: string;
  status: RowStatus;
  password?: string;
  message?: string;
}

// a 1 MB CSV grows when escaped into JSON; parseRosterCsv enforces the 1 MB itself
const rosterJson = express.json({ limit: '4mb', type: () => true });

function rosterBody(req: Request, res: Response, next: NextFunction): void {
  if (!req.headers['content-length'] && !req.headers['transfer-encoding']) {
    req.body = undefined;
    return next();
  }
  rosterJson(req, res, (err?: unknown) => {
    if (!err) return next();
    if ((err as { type?: string }).type === 'entity.too.large') return next(new HubError('HUB_ERR_BAD_REQUEST', 'The roster is larger than 1 MB; split it into several files.'));
    next(new HubError('HUB_ERR_INVALID_JSON'));
  });
}

/** Runs tasks one after another, whatever each one's outcome. */
function serially() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** The `:name` parameter; an invalid name is a 400 (nothing is looked up for it). */
function nameParam(req: Request): string {
  const name = String(req.params.name ?? '');
  if (!isValidUserName(name)) throw new HubError('HUB_ERR_INVALID_NAME', `"${name}" is not a valid user name.`);
  return name;
}

/** The four account endpoints; mount before the `/hub/api/{*rest}` 404. */
export function accountsRouter(o: AccountsRouterOptions): Router {
  const r = express.Router();
  const linux = o.accounts ?? new LinuxAccounts({ minUid: o.config.auth.minUid, dataDir: o.config.dataDir });
  const log = o.log.child({ component: 'accounts' });
  const exclusive = serially();
  const lookups: RosterLookups = {
    minUid: o.config.auth.minUid,
    users: (names) => linux.users(names),
    groups: (names) => linux.groups(names),
    takenHomes: (names) => linux.takenHomes(names),
  };
  const adminOnly = (req: Request, _res: Response, next: NextFunction) => {
    requireAdmin(req, o.identity);
    next();
  };

  /** Adds the user to the hub and to the hub group; returns how to take that back. */
  const joinHub = (name: string, group: string): (() => void) => {
    const { users, groups } = o.store.data;
    const now = new Date().toISOString();
    const addedUser = !users[name];
    if (addedUser) users[name] = { name, created: now, lastActivity: null, admin: false };
    const addedGroup = !groups[group];
    const g = (groups[group] ??= { name: group, users: [], created: now });
    const addedMember = !g.users.includes(name);
    if (addedMember) g.users.push(name);
    return () => {
      if (addedMember) g.users = g.users.filter((u) => u !== name);
      if (addedGroup) delete groups[group];
      if (addedUser) delete users[name];
    };
  };

  /** Commits a hub change; if that fails, takes it back and undoes `linuxUndo`. */
  const commitOrUndo = async (undoHub: () => void, linuxUndo: () => Promise<void>) => {
    try {
      await o.store.commit();
    } catch (err) {
      undoHub();
      await linuxUndo().catch((e: unknown) => log.error({ err: e }, 'could not undo a row after the state write failed'));
      throw err;
    }
  };

  const applyRow = async (row: PlannedRow, by: string): Promise<RowResult> => {
    const base = { line: row.line, name: row.name, fullName: row.fullName, group: row.group };
    if (row.action === 'invalid' || row.action === 'duplicate') return { ...base, status: 'skipped', message: row.problems.join(' ') };
    try {
      if (row.action === 'create') {
        const password = row.password ?? generatePassword();
        const made = await linux.createAccount({ name: row.name, fullName: row.fullName, group: row.group, password });
        await commitOrUndo(joinHub(row.name, row.group), () => linux.undoCreate(made));
        log.info({ by, user: row.name, uid: made.account.uid, group: row.group, groupCreated: made.groupCreated }, 'account created');
        return { ...base, status: 'created', password };
      }
      const groupCreated = await linux.ensureGroup(row.group);
      const undoGroup = () => (groupCreated ? linux.removeGroupIfEmpty(row.group) : Promise.resolve());
      await linux.addToGroup(row.name, row.group).catch(async (err: unknown) => {
        await undoGroup().catch(() => undefined);
        throw err;
      });
      await commitOrUndo(joinHub(row.name, row.group), undoGroup);
      log.info({ by, user: row.name, group: row.group }, 'existing account added to a group');
      return { ...base, status: 'updated', message: `The account exists already: it was added to the group ${row.group}; its password was not changed.` };
    } catch (err) {
      const disk = ['ENOSPC', 'EDQUOT'].includes((err as NodeJS.ErrnoException).code ?? '');
      const message = err instanceof HubError ? err.message : disk ? errorCatalogue.HUB_ERR_DISK_FULL.message : `Internal error: ${(err as Error).message}`;
      log.warn({ by, user: row.name, err: err instanceof HubError ? undefined : err, reason: message }, 'account row failed');
      return { ...base, status: 'failed', message };
    }
  };

  r.post('/hub/api/labhub/accounts/preview', adminOnly, rosterBody, async (req, res) => {
    const plan = await planRoster(readRoster(req.body), lookups);
    res.json({ rows: plan.map(previewRow), summary: summarizePlan(plan) });
  });

  r.post('/hub/api/labhub/accounts', adminOnly, rosterBody, async (req, res) => {
    const id = requireAdmin(req, o.identity);
    const rows = readRoster(req.body);
    const results = await exclusive(async () => {
      const out: RowResult[] = [];
      for (const row of await planRoster(rows, lookups)) out.push(await applyRow(row, id.user));
      o.passwd?.invalidate();
      return out;
    });
    const summary: Record<RowStatus, number> = { created: 0, updated: 0, skipped: 0, failed: 0 };
    for (const row of results) summary[row.status]++;
    log.info({ by: id.user, ...summary }, 'roster applied');
    res.set('Cache-Control', 'no-store').json({ rows: results, summary });
  });

  r.post('/hub/api/labhub/accounts/:name/password', adminOnly, jsonBody, async (req, res) => {
    const id = requireAdmin(req, o.identity);
    const name = nameParam(req);
    const given = (req.body as { password?: unknown } | undefined)?.password ?? undefined;
    if (given !== undefined && typeof given !== 'string') throw new HubError('HUB_ERR_BAD_REQUEST', 'Expected {} or {"password": "…"}');
    const problem = given === undefined ? null : passwordProblem(given);
    if (problem) throw new HubError('HUB_ERR_BAD_REQUEST', problem);
    const password = given ?? generatePassword();
    await exclusive(async () => {
      const acct = await linux.account(name);
      if (!acct) throw new HubError('HUB_ERR_NOT_FOUND', `There is no Linux account "${name}".`);
      linux.protect(acct);
      await linux.setPassword(name, password);
      delete o.store.data.loginFailures.users[name];
      await o.store.commit();
    });
    log.info({ by: id.user, user: name, generated: given === undefined }, 'password reset; login lockout cleared');
    res.set('Cache-Control', 'no-store').json({ name, password });
  });

  r.delete('/hub/api/labhub/accounts/:name', adminOnly, async (req, res) => {
    const id = requireAdmin(req, o.identity);
    const name = nameParam(req);
    const choice = String(req.query.home ?? '');
    if (choice !== 'keep' && choice !== 'archive' && choice !== 'delete') {
      throw new HubError('HUB_ERR_BAD_REQUEST', 'Say what happens to the home: ?home=keep, ?home=archive or ?home=delete.');
    }
    if (name === id.user) throw new HubError('HUB_ERR_ACCOUNT_PROTECTED', 'You cannot remove your own account; ask another admin.');
    const result = await exclusive(async () => {
      const acct = await linux.account(name);
      if (!acct) throw new HubError('HUB_ERR_NOT_FOUND', `There is no Linux account "${name}" (to remove only the hub user, use DELETE /hub/api/users/${name}).`);
      linux.protect(acct);
      // refuse an unsafe home before anything is removed
      const hasHome = choice === 'keep' ? true : (await linux.checkHome(acct)) !== null;
      await o.servers.stop(name, 'Your account was removed.');
      await linux.killProcesses(acct.uid);
      const archive = choice === 'archive' ? await linux.archiveHome(acct) : null;
      await linux.removeUser(name);
      o.passwd?.invalidate();
      forgetHubUser(o, name);
      delete o.store.data.loginFailures.users[name];
      await o.store.commit();
      log.info({ by: id.user, user: name, uid: acct.uid, home: choice, archive }, 'account removed');
      if (choice === 'keep') return { name, home: 'kept', archive: null };
      try {
        await linux.deleteHome(acct);
      } catch (err) {
        const kept = archive ? ` (it is archived in ${archive})` : '';
        throw new HubError('HUB_ERR_ACCOUNT_COMMAND', `The account ${name} was removed, but its home ${acct.home} could not be deleted${kept}: ${(err as Error).message}`);
      }
      return { name, home: choice === 'archive' && hasHome ? 'archived' : 'deleted', archive };
    });
    res.json(result);
  });

  return r;
}
