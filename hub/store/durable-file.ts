/**
 * A lowdb adapter that makes every write durable: the JSON goes to a temp file (mode 0600), is
 * fsync'ed, renamed over the real file, and the directory is fsync'ed, so a crash leaves either the
 * old or the new state, never half of one. The previous good file is kept as `<file>.bak`.
 * A file that cannot be parsed is never replaced: reading it throws StateDamagedError.
 */
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';

export class StateDamagedError extends Error {
  constructor(
    readonly file: string,
    readonly backup: string | null,
    reason: string,
  ) {
    super(
      `the state file ${file} is damaged (${reason}). LabHub will not start with it and has not changed it. ` +
        (backup
          ? `The last good copy is ${backup}: inspect both, then copy the good one over ${file} and start again.`
          : `No earlier copy exists; move ${file} away to start with empty state.`),
    );
    this.name = 'StateDamagedError';
  }
}

export class DurableJsonFile<T> implements Adapter<T> {
  readonly backup: string;
  private tmpCounter = 0;

  constructor(readonly file: string) {
    this.backup = `${file}.bak`;
  }

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const data = JSON.parse(text) as unknown;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('not a JSON object');
      return data as T;
    } catch (err) {
      const hasBackup = await fs.access(this.backup, constants.R_OK).then(
        () => true,
        () => false,
      );
      throw new StateDamagedError(this.file, hasBackup ? this.backup : null, (err as Error).message);
    }
  }

  async write(data: T): Promise<void> {
    const dir = dirname(this.file);
    const tmp = join(dir, `.${basename(this.file)}.${process.pid}.${this.tmpCounter++}.tmp`);
    const text = JSON.stringify(data);
    const handle = await fs.open(tmp, 'w', 0o600);
    try {
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      // e.g. ENOSPC: the real file is untouched; leave no half-written temp file behind
      await fs.rm(tmp, { force: true });
      throw err;
    }
    // keep the last good copy for recovery; a hard link costs nothing and is atomic
    await fs.rm(this.backup, { force: true });
    await fs.link(this.file, this.backup).catch(() => undefined);
    await fs.rename(tmp, this.file);
    const dirHandle = await fs.open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }
}
