/**
 * The local admin channel for `labhub users …` and `labhub token …`: at each start the hub issues
 * a fresh admin token for the CLI and writes it with the hub's URL to `<dataDir>/cli-token`
 * (0600, root's, like every LabHub secret). Whoever can read that file is root on the lab server
 * already, or, when an admin group is configured, a member of that group: the desktop control app
 * runs as the instructor and connects with this token, so the file is then 0640 root:<group> and
 * the data dir 0710 (members may open that one file by name but not list or read the rest; the
 * state file stays 0600). Members of the admin group are hub admins anyway. The CLI talks to the running hub's REST API, so its changes never race the hub's own
 * writes of the state file.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/store.js';
import type { TokenStore } from '../tokens/token-store.js';

/** The identity the CLI acts as (not a valid Linux name, so it can never be a student). */
export const CLI_USER = '@labhub-cli';

export interface CliCredentials {
  url: string;
  token: string;
}

export function cliTokenFile(dataDir: string): string {
  return join(dataDir, 'cli-token');
}

/** The gid of a Linux group, or null when it does not exist. */
export function groupId(name: string): Promise<number | null> {
  return new Promise((resolve) =>
    execFile('getent', ['group', name], (err, stdout) => {
      const gid = Number(stdout.split(':')[2]);
      resolve(err || !Number.isInteger(gid) ? null : gid);
    }),
  );
}

/**
 * Revokes the previous CLI token, makes a new one and writes it (the caller's commit makes it
 * durable). With `adminGroup` (an existing group) the file is readable by that group too.
 */
export async function issueCliToken(store: Store, tokens: TokenStore, dataDir: string, hubUrl: string, adminGroup?: string): Promise<void> {
  tokens.revokeWhere((t) => t.kind === 'service' && t.user === CLI_USER);
  const { token } = tokens.create({ user: CLI_USER, kind: 'service', scopes: ['inherit'], note: 'labhub command line (local, root only)' });
  await store.commit();
  const file = cliTokenFile(dataDir);
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, JSON.stringify({ url: hubUrl, token } satisfies CliCredentials), { mode: 0o600 });
  const gid = adminGroup && process.getuid?.() === 0 ? await groupId(adminGroup) : null;
  if (gid !== null) {
    await fs.chown(tmp, 0, gid);
    await fs.chmod(tmp, 0o640);
    const st = await fs.stat(dataDir);
    if (st.uid === 0) {
      await fs.chown(dataDir, 0, gid);
      await fs.chmod(dataDir, 0o710);
    }
  }
  await fs.rename(tmp, file);
}

export function readCliCredentials(dataDir: string): CliCredentials | null {
  try {
    const data = JSON.parse(readFileSync(cliTokenFile(dataDir), 'utf8')) as Partial<CliCredentials>;
    return typeof data.url === 'string' && typeof data.token === 'string' ? { url: data.url, token: data.token } : null;
  } catch {
    return null;
  }
}
