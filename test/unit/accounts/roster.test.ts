import { describe, expect, it } from 'vitest';
import {
  MAX_ROSTER_ROWS,
  parseRosterCsv,
  passwordProblem,
  planRoster,
  previewRow,
  readRoster,
  summarizePlan,
  type RosterLookups,
} from '../../../hub/accounts/roster.js';
import { HubError } from '../../../hub/errors.js';

/** A made-up machine: accounts, groups and taken homes by name. */
function machine(users: Record<string, number>, groups: Record<string, number> = {}, homes: string[] = []): RosterLookups {
  const pick = (table: Record<string, number>, names: string[]) => new Map(names.filter((n) => n in table).map((n) => [n, table[n]!]));
  return {
    minUid: 1000,
    users: async (names) => pick(users, names),
    groups: async (names) => pick(groups, names),
    takenHomes: async (names) => new Set(names.filter((n) => homes.includes(n))),
  };
}

describe('parseRosterCsv', () => {
  it('reads comma CSV with a header, quotes and "" escapes, skipping blank and # lines', () => {
    const rows = parseRosterCsv('name,full name,group,password\n\n# a comment\ns01,"Lovelace, Ada",cs101,\n  s02 , "Grace ""Amazing"" Hopper" ,cs101, secret-pw\n');
    expect(rows).toEqual([
      { line: 4, name: 's01', fullName: 'Lovelace, Ada', group: 'cs101', password: null, columns: 3 },
      { line: 5, name: 's02', fullName: 'Grace "Amazing" Hopper', group: 'cs101', password: 'secret-pw', columns: 4 },
    ]);
  });

  it('reads semicolon CSV without a header, CRLF line ends, a BOM and a quoted line break', () => {
    const rows = parseRosterCsv('\uFEFFs01;Ada;cs101;pw;with;extra\r\ns02;"two\r\nlines";cs101\r\n;;;\r\ns03;;cs102');
    expect(rows.map((r) => [r.line, r.name, r.fullName, r.password, r.columns])).toEqual([
      [1, 's01', 'Ada', 'pw', 6],
      [2, 's02', 'two\nlines', null, 3],
      [5, 's03', '', null, 3],
    ]);
  });

  it('recognises the header by username or user, in any case', () => {
    expect(parseRosterCsv('UserName,Name,Group\ns01,,g')).toHaveLength(1);
    expect(parseRosterCsv('user;x;y\ns01;;g')).toHaveLength(1);
    expect(parseRosterCsv('s01,,g')).toHaveLength(1);
  });

  it('refuses an unclosed quote, more than 2000 rows and more than 1 MB with a clear 400', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(HubError);
        expect((e as HubError).status).toBe(400);
        return (e as HubError).message;
      }
      throw new Error('did not throw');
    };
    expect(err(() => parseRosterCsv('s01,ok,g\ns02,"never closed,g\ns03,,g'))).toMatch(/Line 2: a quoted field is not closed/);
    const many = Array.from({ length: MAX_ROSTER_ROWS + 1 }, (_, i) => `s${i},,g`).join('\n');
    expect(err(() => parseRosterCsv(many))).toMatch(/more than 2000/);
    expect(parseRosterCsv(`name\n${many.split('\n').slice(1).join('\n')}`)).toHaveLength(MAX_ROSTER_ROWS);
    expect(err(() => parseRosterCsv(`s01,${'x'.repeat(1024 * 1024)},g`))).toMatch(/larger than 1 MB/);
  });
});

describe('readRoster', () => {
  it('takes {csv} or {users}, and nothing else', () => {
    expect(readRoster({ csv: 's01,,g' })).toHaveLength(1);
    const rows = readRoster({ users: [{ name: ' s01 ', fullName: 'Ada', group: 'g' }, { name: 's02', group: 'g', password: 'longenough' }] });
    expect(rows).toEqual([
      { line: 1, name: 's01', fullName: 'Ada', group: 'g', password: null, columns: 4 },
      { line: 2, name: 's02', fullName: '', group: 'g', password: 'longenough', columns: 4 },
    ]);
    expect(() => readRoster({})).toThrow(/Expected/);
    expect(() => readRoster({ csv: 'x', users: [] })).toThrow(/Expected/);
    expect(() => readRoster({ users: [{ name: 5, group: 'g' }] })).toThrow(/users\[0\]: "name" must be a string/);
    expect(() => readRoster({ users: ['s01'] })).toThrow(/users\[0\] must be an object/);
  });
});

describe('passwordProblem', () => {
  it('wants 8 characters and no colon or line break', () => {
    expect(passwordProblem('1234567')).toMatch(/shorter than 8/);
    expect(passwordProblem('12345678')).toBeNull();
    expect(passwordProblem('pass:word')).toMatch(/':'/);
    expect(passwordProblem('pass\nword')).toMatch(/line break/);
  });
});

describe('planRoster', () => {
  it('plans create, exists, invalid and duplicate rows with human reasons', async () => {
    const csv = [
      'name,full name,group,password',
      's01,Ada Lovelace,cs101,',
      'S02,Bad Case,cs101,',
      's03,Short Pw,cs101,short',
      's01,Again,cs101,',
      'old,Existing Student,cs101,',
      'root,,cs101,',
      'daemon2,,cs101,',
      's04,,sudo,',
      's05,,adm2,',
      's06,,,',
      's07,Colon: Name,cs101,',
      's08,,cs101,,,',
      's09,,cs101,pw,extra',
      's10,,s10,',
      's11,,old,',
      'left,,cs101,',
      'grp,,cs101,',
    ].join('\n');
    const plan = await planRoster(parseRosterCsv(csv), machine({ old: 1500, daemon2: 2 }, { adm2: 4, grp: 1700 }, ['left']));
    const by = (line: number) => plan.find((r) => r.line === line)!;
    expect(by(2)).toMatchObject({ name: 's01', action: 'create', problems: [] });
    expect(by(3).action).toBe('invalid');
    expect(by(3).problems[0]).toMatch(/"S02" is not a valid user name/);
    expect(by(4)).toMatchObject({ action: 'invalid', problems: ['The password is shorter than 8 characters.'] });
    expect(by(5)).toMatchObject({ action: 'duplicate', problems: ['"s01" appears already on line 2.'] });
    expect(by(6)).toMatchObject({ action: 'exists', problems: [] });
    expect(by(7).problems).toEqual(['"root" is reserved for the system.']);
    expect(by(8).problems).toEqual(['"daemon2" is a system account (uid 2); it cannot be managed here.']);
    expect(by(9).problems).toEqual(['"sudo" is reserved for the system.']);
    expect(by(10).problems).toEqual(['"adm2" is a system group (gid 4); students cannot be added to it.']);
    expect(by(11).problems).toEqual(['The group is missing.']);
    expect(by(12).problems).toEqual(["The full name may not contain ':' or a line break."]);
    expect(by(13).action).toBe('create'); // trailing empty cells are not columns
    expect(by(14).problems).toEqual(['The password is shorter than 8 characters.', 'Too many columns (5); expected name, full name, group, password.']);
    expect(by(15).problems[0]).toMatch(/cannot be the user's own name/);
    expect(by(16).problems[0]).toMatch(/"old" is the personal group of the account "old"/);
    expect(by(17).problems).toEqual(['A home directory for "left" exists already (left from an earlier account?); move or remove it first.']);
    expect(by(18).problems).toEqual(['A group named "grp" exists already; the new account needs its own group of that name.']);
    expect(summarizePlan(plan)).toEqual({ create: 2, exists: 1, invalid: 13, duplicate: 1 });
  });

  it('flags a home left from an earlier account, and a group named like a user being created', async () => {
    const plan = await planRoster(readRoster({ users: [{ name: 'gone', group: 'cs101' }, { name: 'cs101', group: 'other' }] }), machine({}, {}, ['gone']));
    expect(plan[0]!.problems).toEqual([
      '"cs101" is the personal group of the account "cs101"; choose a class name.',
      'A home directory for "gone" exists already (left from an earlier account?); move or remove it first.',
    ]);
    expect(plan[1]!.action).toBe('create');
  });

  it('previews without the password, only whether one was given', async () => {
    const [row] = await planRoster(readRoster({ users: [{ name: 's01', group: 'g1', password: 'given-secret' }] }), machine({}));
    const shown = previewRow(row!);
    expect(shown).toEqual({ line: 1, name: 's01', fullName: '', group: 'g1', passwordGiven: true, action: 'create', problems: [] });
    expect(JSON.stringify(shown)).not.toContain('given-secret');
  });
});
