/**
 * The hub's state store: lowdb over a durable file. Callers change `store.data` and then
 * `await store.commit()`: the promise resolves once a write that began after the change is on disk,
 * so a request is answered only after its change is durable. Concurrent commits share one write.
 */
import { mkdirSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { DurableJsonFile } from './durable-file.js';
import { emptyState, STATE_SCHEMA_VERSION, type State } from './state.js';

export class Store {
  private readonly db: Low<State>;
  private writing: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private closed = false;

  private constructor(readonly file: string) {
    this.db = new Low<State>(new DurableJsonFile<State>(file), emptyState());
  }

  /** Opens (or creates) `<dataDir>/state.json`; throws StateDamagedError for a damaged file. */
  static async open(dataDir: string): Promise<Store> {
    if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    const store = new Store(join(dataDir, 'state.json'));
    await store.db.read();
    const data = store.db.data;
    if (data.schemaVersion > STATE_SCHEMA_VERSION) {
      throw new Error(
        `the state file ${store.file} was written by a newer LabHub (schema ${data.schemaVersion}); upgrade LabHub or restore a backup`,
      );
    }
    // fill in anything a file from an older release lacks, never dropping what is there
    store.db.data = { ...emptyState(), ...data, schemaVersion: STATE_SCHEMA_VERSION };
    store.db.data.loginFailures = { ...emptyState().loginFailures, ...store.db.data.loginFailures };
    await store.commit();
    return store;
  }

  get data(): State {
    return this.db.data;
  }

  /** Makes every change made so far durable. */
  commit(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('state store is closed'));
    if (!this.writing) {
      this.writing = this.db.write().finally(() => {
        this.writing = null;
      });
      return this.writing;
    }
    // a write is in flight and may have serialised before this change: queue exactly one more
    if (!this.queued) {
      this.queued = this.writing
        .catch(() => undefined)
        .then(() => {
          this.queued = null;
          return this.commit();
        });
    }
    return this.queued;
  }

  async close(): Promise<void> {
    await this.writing?.catch(() => undefined);
    await this.queued?.catch(() => undefined);
    this.closed = true;
  }
}
