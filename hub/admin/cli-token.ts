/**
 * The local admin channel for `labhub users …` and `labhub token …`: at each start the hub issues
 * a fresh admin token for the CLI and writes it with the hub's URL to `<dataDir>/cli-token`
 * (0600, root's, like every LabHub secret). Whoever can read that file is root on the lab server
 * already. The CLI talks to the running hub's REST API, so its changes never race the hub's own
 * writes of the state file.
 */
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

/** Revokes the previous CLI token, makes a new one and writes it (the caller's commit makes it durable). */
export async function issueCliToken(store: Store, tokens: TokenStore, dataDir: string, hubUrl: string): Promise<void> {
  tokens.revokeWhere((t) => t.kind === 'service' && t.user === CLI_USER);
  const { token } = tokens.create({ user: CLI_USER, kind: 'service', scopes: ['inherit'], note: 'labhub command line (local, root only)' });
  await store.commit();
  const file = cliTokenFile(dataDir);
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, JSON.stringify({ url: hubUrl, token } satisfies CliCredentials), { mode: 0o600 });
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
