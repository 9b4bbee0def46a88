/**
 * The Spawner seam: how a single-user server is started, watched, stopped and re-adopted.
 * The hub owns tokens, OAuth clients, readiness checks and proxy routes; a spawner only runs the
 * process (or container) and reports on it. State must be JSON so it survives a hub restart.
 */
import type { Account } from '../auth/accounts.js';

export interface ProgressEvent {
  /** 0–100 */
  progress: number;
  message: string;
}

export interface StartOptions {
  account: Account;
  /** The JUPYTERHUB_* environment built by the hub, without JUPYTERHUB_SERVICE_URL (the spawner adds it). */
  env: Record<string, string>;
  /** URL prefix the server is mounted at, e.g. `/user/alice/`. */
  prefix: string;
  onProgress: (event: ProgressEvent) => void;
}

export interface StartedServer {
  /** Scheme, host and port the proxy routes to, e.g. `http://127.0.0.1:41234`. */
  target: string;
  /** JSON-serialisable data that `poll`/`stop` need, also after a hub restart. */
  state: Record<string, unknown>;
}

export type PollResult =
  /** `notice`: something the student should know although the server runs (a kernel killed by the memory limit). */
  | { running: true; notice?: string }
  /** `outOfMemory`: the memory limit killed processes of the server (the reason says so). */
  | { running: false; exitCode: number | null; signal: string | null; reason: string; outOfMemory?: boolean };

export interface Spawner {
  readonly kind: string;
  /** Starts the process; resolves once it was launched (readiness is the hub's HTTP check). */
  start(options: StartOptions): Promise<StartedServer>;
  /** Is it still alive? When not, why (exit code or signal and the last log lines). */
  poll(user: string, state: Record<string, unknown>): Promise<PollResult>;
  /** SIGINT, then SIGTERM, then SIGKILL after the grace period; resolves when it is gone. */
  stop(user: string, state: Record<string, unknown>): Promise<void>;
  /** Last lines of the server's log, for failure messages and the admin. */
  logTail(user: string, lines?: number): Promise<string[]>;
  /** Releases spawner resources; never stops user servers. */
  close(): Promise<void>;
}
