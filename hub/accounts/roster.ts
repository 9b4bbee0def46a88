/**
 * The class roster: reading it (a CSV file or a JSON list) and deciding, row by row, what creating
 * it would do. Pure apart from the lookups it is given, so a preview changes nothing and the same
 * plan is made again, under the accounts lock, when the roster is created.
 * Format and rules: docs/admin-api.md, "Accounts (Linux users)".
 */
import { isValidUserName } from '../auth/accounts.js';
import { HubError } from '../errors.js';

/** Limits of one roster (the contract's): larger classes are imported in parts. */
export const MAX_ROSTER_ROWS = 2000;
export const MAX_ROSTER_BYTES = 1024 * 1024;
/** Shortest password accepted from an admin (generated ones are 14 characters). */
export const MIN_PASSWORD_LENGTH = 8;

/**
 * Names never managed here, whether or not the account exists on this machine: system accounts
 * and groups that give power over the machine (a student in `sudo` or `docker` is root).
 */
const RESERVED = new Set(
  ('root daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc gnats nobody nogroup ' +
    '_apt messagebus sshd polkitd avahi postfix ftp operator halt shutdown labhub jupyter jupyterhub ' +
    'adm admin sudo wheel shadow disk kmem tty dialout cdrom floppy audio video plugdev netdev staff users ' +
    'docker lxd libvirt kvm systemd-journal input render sgx utmp tape voice fax src crontab ssh')
    .split(' '),
);

/** True for names reserved for the system (see RESERVED; also every `systemd-*`). */
export function isReservedName(name: string): boolean {
  return RESERVED.has(name) || name.startsWith('systemd-');
}

/** One roster row as read: `line` is where it starts in the CSV (or its 1-based place in a list). */
export interface RosterRow {
  line: number;
  name: string;
  fullName: string;
  group: string;
  /** null: generate one. */
  password: string | null;
  /** Non-empty cells (CSV); more than 4 makes the row invalid. */
  columns: number;
}

/** What creating the roster would do with a row (see docs/admin-api.md). */
export type RowAction = 'create' | 'exists' | 'invalid' | 'duplicate';

/** A row with its decision. Holds the password: never send it as is (see previewRow). */
export interface PlannedRow extends RosterRow {
  action: RowAction;
  problems: string[];
}

/** What the planner needs to know about the machine (batched: one lookup per kind for the roster). */
export interface RosterLookups {
  minUid: number;
  /** uid of each of these names that is an account. */
  users(names: string[]): Promise<Map<string, number>>;
  /** gid of each of these names that is a group. */
  groups(names: string[]): Promise<Map<string, number>>;
  /** Names whose home directory path is taken already. */
  takenHomes(names: string[]): Promise<Set<string>>;
}

const HEADER_NAMES = new Set(['name', 'username', 'user', 'user name']);
const COLUMNS = 'name, full name, group, password';

/** Reads a request body `{csv}` or `{users}` into rows; a roster that cannot be read at all is a 400. */
export function readRoster(body: unknown): RosterRow[] {
  const b = (body ?? {}) as { csv?: unknown; users?: unknown };
  if (typeof b.csv === 'string' && b.users === undefined) return parseRosterCsv(b.csv);
  if (Array.isArray(b.users) && b.csv === undefined) return rowsFromList(b.users);
  throw new HubError('HUB_ERR_BAD_REQUEST', 'Expected {"csv": "<roster>"} or {"users": [{"name", "fullName", "group", "password"}, …]}');
}

/** Parses a CSV roster (comma or semicolon, optional header, `""` escapes, `#` comments). */
export function parseRosterCsv(text: string): RosterRow[] {
  if (Buffer.byteLength(text, 'utf8') > MAX_ROSTER_BYTES) throw tooBig('The roster is larger than 1 MB');
  const records = csvRecords(text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n'));
  if (records.length && HEADER_NAMES.has((records[0]!.cells[0] ?? '').toLowerCase())) records.shift();
  if (records.length > MAX_ROSTER_ROWS) throw tooBig(`The roster has ${records.length} rows, more than ${MAX_ROSTER_ROWS}`);
  return records.map(({ line, cells }) => {
    let columns = cells.length;
    while (columns > 0 && cells[columns - 1] === '') columns--;
    return { line, name: cells[0] ?? '', fullName: cells[1] ?? '', group: cells[2] ?? '', password: cells[3] || null, columns };
  });
}

function tooBig(what: string): HubError {
  return new HubError('HUB_ERR_BAD_REQUEST', `${what}; split it into several files of at most ${MAX_ROSTER_ROWS} rows.`);
}

/** Splits CSV text (line ends already `\n`) into records, skipping blank and `#` lines. */
function csvRecords(text: string): { line: number; cells: string[] }[] {
  const out: { line: number; cells: string[] }[] = [];
  let sep: string | null = null;
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const eol = text.indexOf('\n', i);
    const raw = text.slice(i, eol < 0 ? text.length : eol);
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) {
      i += raw.length + 1;
      line++;
      continue;
    }
    sep ??= count(raw, ';') > count(raw, ',') ? ';' : ',';
    const start = line;
    const cells: string[] = [];
    let cell = '';
    let closedAt = -1; // length of the quoted part of `cell`, once its quote closed
    let inQuotes = false;
    for (;;) {
      const ch = text[i];
      if (inQuotes) {
        if (ch === undefined) throw new HubError('HUB_ERR_BAD_REQUEST', `Line ${start}: a quoted field is not closed (a " is missing).`);
        if (ch === '"' && text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        if (ch === '"') {
          inQuotes = false;
          closedAt = cell.length;
        } else {
          if (ch === '\n') line++;
          cell += ch;
        }
        i++;
        continue;
      }
      if (ch === undefined || ch === '\n' || ch === sep) {
        cells.push(closedAt < 0 ? cell.trim() : cell.slice(0, closedAt) + cell.slice(closedAt).trimEnd());
        cell = '';
        closedAt = -1;
        i++;
        if (ch === sep) continue;
        line++;
        break;
      }
      if (ch === '"' && closedAt < 0 && cell.trim() === '') {
        inQuotes = true;
        cell = '';
      } else cell += ch;
      i++;
    }
    // spreadsheets export empty rows as ",,,"
    if (cells.some((c) => c !== '')) out.push({ line: start, cells });
    if (out.length > MAX_ROSTER_ROWS + 1) throw tooBig(`The roster has more than ${MAX_ROSTER_ROWS} rows`);
  }
  return out;
}

function count(s: string, ch: string): number {
  return s.split(ch).length - 1;
}

/** Rows from a JSON list `[{name, fullName?, group, password?}]`; `line` is the 1-based position. */
function rowsFromList(users: unknown[]): RosterRow[] {
  if (users.length > MAX_ROSTER_ROWS) throw tooBig(`The list has ${users.length} users, more than ${MAX_ROSTER_ROWS}`);
  return users.map((u, i) => {
    const o = (u ?? {}) as Record<string, unknown>;
    const text = (key: string, required: boolean): string => {
      const v = o[key];
      if (v === undefined || v === null) {
        if (required) throw new HubError('HUB_ERR_BAD_REQUEST', `users[${i}]: "${key}" is missing`);
        return '';
      }
      if (typeof v !== 'string') throw new HubError('HUB_ERR_BAD_REQUEST', `users[${i}]: "${key}" must be a string`);
      return v;
    };
    if (typeof u !== 'object' || u === null || Array.isArray(u)) throw new HubError('HUB_ERR_BAD_REQUEST', `users[${i}] must be an object`);
    const password = text('password', false);
    return { line: i + 1, name: text('name', true).trim(), fullName: text('fullName', false).trim(), group: text('group', false).trim(), password: password || null, columns: 4 };
  });
}

/** Why a password cannot be used, or null. The rule chpasswd's input format and a sane minimum need. */
export function passwordProblem(password: string): string | null {
  if (/[:\n\r]/.test(password)) return "The password may not contain ':' or a line break.";
  if ([...password].length < MIN_PASSWORD_LENGTH) return `The password is shorter than ${MIN_PASSWORD_LENGTH} characters.`;
  return null;
}

/** Why a name cannot be a managed user or group, or null (syntax and the reserved list only). */
export function nameProblem(name: string, what: 'user name' | 'group'): string | null {
  if (!name) return `The ${what} is missing.`;
  if (!isValidUserName(name)) {
    return `"${name}" is not a valid ${what}: use up to 32 lower-case letters, digits, "_" and "-", starting with a letter or "_".`;
  }
  if (isReservedName(name)) return `"${name}" is reserved for the system.`;
  return null;
}

/** Decides every row: create, exists, invalid (with problems) or duplicate. Changes nothing. */
export async function planRoster(rows: RosterRow[], look: RosterLookups): Promise<PlannedRow[]> {
  const names = [...new Set(rows.map((r) => r.name).filter((n) => !nameProblem(n, 'user name')))];
  const groups = [...new Set(rows.map((r) => r.group).filter((g) => !nameProblem(g, 'group')))];
  const [uids, gids, homes] = await Promise.all([
    look.users([...new Set([...names, ...groups])]),
    look.groups([...new Set([...names, ...groups])]),
    look.takenHomes(names),
  ]);
  const firstLine = new Map<string, number>();
  return rows.map((row) => {
    const problems: string[] = [];
    const uid = uids.get(row.name);
    const nameBad = nameProblem(row.name, 'user name');
    if (nameBad) problems.push(nameBad);
    else if (uid !== undefined && uid < look.minUid) problems.push(`"${row.name}" is a system account (uid ${uid}); it cannot be managed here.`);
    const earlier = row.name ? firstLine.get(row.name) : undefined;
    if (row.name && earlier === undefined) firstLine.set(row.name, row.line);
    if (!nameBad && earlier !== undefined) {
      return { ...row, action: 'duplicate', problems: [`"${row.name}" appears already on line ${earlier}.`] };
    }
    const groupBad = nameProblem(row.group, 'group');
    const gid = gids.get(row.group);
    if (groupBad) problems.push(groupBad);
    else if (row.group === row.name) problems.push(`The group cannot be the user's own name: every account gets a personal group "${row.name}".`);
    else if (gid !== undefined && gid < look.minUid) problems.push(`"${row.group}" is a system group (gid ${gid}); students cannot be added to it.`);
    else if (uids.has(row.group) || names.includes(row.group)) problems.push(`"${row.group}" is the personal group of the account "${row.group}"; choose a class name.`);
    if (/[:\n\r]/.test(row.fullName)) problems.push("The full name may not contain ':' or a line break.");
    if (row.password !== null) {
      const pw = passwordProblem(row.password);
      if (pw) problems.push(pw);
    }
    if (row.columns > 4) problems.push(`Too many columns (${row.columns}); expected ${COLUMNS}.`);
    if (!nameBad && uid === undefined) {
      if (gids.has(row.name)) problems.push(`A group named "${row.name}" exists already; the new account needs its own group of that name.`);
      if (homes.has(row.name)) problems.push(`A home directory for "${row.name}" exists already (left from an earlier account?); move or remove it first.`);
    }
    const action: RowAction = problems.length ? 'invalid' : uid === undefined ? 'create' : 'exists';
    return { ...row, action, problems };
  });
}

/** The preview's view of a row: everything but the password. */
export function previewRow(r: PlannedRow) {
  return { line: r.line, name: r.name, fullName: r.fullName, group: r.group, passwordGiven: r.password !== null, action: r.action, problems: r.problems };
}

/** Counts per action, every action present. */
export function summarizePlan(rows: PlannedRow[]): Record<RowAction, number> {
  const s = { create: 0, exists: 0, invalid: 0, duplicate: 0 };
  for (const r of rows) s[r.action]++;
  return s;
}
