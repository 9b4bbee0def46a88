/**
 * The logger interface LabHub code depends on, and what is always redacted. Kept apart from pino
 * (log.ts) so the proxy process can log through log-lite.ts without loading pino at all.
 */

export type LogFn = { (obj: object, msg?: string): void; (msg: string): void };

/**
 * What LabHub code needs of a logger: pino's API, narrowed so the proxy process can use the
 * lighter JSON-lines logger in log-lite.ts (pino costs the proxy ~8 MB resident) interchangeably.
 */
export interface Logger {
  readonly levelVal: number;
  isLevelEnabled(level: string): boolean;
  child(bindings: Record<string, unknown>): Logger;
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
}

/** Keys whose values never reach a log line. */
export const REDACTED_KEYS = ['password', 'token', 'secret', 'cookie', 'authorization'];

