/**
 * The admin token the app uses for the hub's REST API (tray figures): the hub writes a fresh one
 * with its URL to `<dataDir>/cli-token` at every start (hub/admin/cli-token.ts), readable by root
 * only, or by an admin group when one is configured. When the app cannot read it, the error says
 * what to do rather than showing a bare EACCES.
 */
import { readFileSync } from 'node:fs';
import { cliTokenFile, type CliCredentials } from '../hub/admin/cli-token.js';

/** Why the token is not available; `reason` lets the UI pick its wording. */
export class AdminTokenError extends Error {
  constructor(
    readonly reason: 'missing' | 'forbidden' | 'damaged' | 'unreadable',
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminTokenError';
  }
}

/** Reads the hub's URL and admin token; throws AdminTokenError with an explanation when it cannot. */
export function readAdminToken(dataDir: string, read: (file: string) => string = (f) => readFileSync(f, 'utf8')): CliCredentials {
  const file = cliTokenFile(dataDir);
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AdminTokenError('missing', file, `${file} does not exist yet: the hub writes it when it starts (is it running, with data dir ${dataDir}?)`);
    if (code === 'EACCES' || code === 'EPERM') {
      throw new AdminTokenError('forbidden', file, `cannot read ${file}: run the app as a member of the LabHub admin group or as root`);
    }
    throw new AdminTokenError('unreadable', file, `cannot read ${file}: ${(err as Error).message}`);
  }
  let data: Partial<CliCredentials>;
  try {
    data = JSON.parse(text) as Partial<CliCredentials>;
  } catch {
    data = {};
  }
  if (typeof data?.url !== 'string' || typeof data.token !== 'string' || data.token === '') {
    throw new AdminTokenError('damaged', file, `${file} is not a LabHub token file; restarting the hub writes a new one`);
  }
  return { url: data.url, token: data.token };
}
