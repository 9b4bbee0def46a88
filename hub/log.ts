/**
 * pino loggers for the hub and the proxy. Secrets are redacted wherever they could appear
 * (passwords, tokens, cookies, Authorization headers); child loggers carry `reqId` or `user`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';

import { REDACTED_KEYS, type Logger } from './logger.js';

export { REDACTED_KEYS, type Logger };

const redact = {
  paths: [...REDACTED_KEYS, ...REDACTED_KEYS.map((k) => `*.${k}`), 'req.headers.cookie', 'req.headers.authorization'],
  censor: '[redacted]',
};

/**
 * A logger writing JSON lines to `<logDir>/<name>.log` and to stderr. Tests pass `level: 'silent'`
 * or a destination of their own.
 */
export function createLogger(opts: { name: string; level?: string; logDir?: string; stderr?: boolean }): Logger {
  const streams: pino.StreamEntry[] = [];
  if (opts.logDir) {
    mkdirSync(opts.logDir, { recursive: true, mode: 0o750 });
    streams.push({ stream: pino.destination({ dest: join(opts.logDir, `${opts.name}.log`), mkdir: true, sync: false }) });
  }
  if (opts.stderr !== false) streams.push({ stream: pino.destination({ fd: 2, sync: false }) });
  const level = opts.level ?? 'info';
  return pino({ name: opts.name, level, redact, base: { pid: process.pid } }, pino.multistream(streams.map((s) => ({ ...s, level: level as pino.Level }))));
}

/** A logger that writes nothing; for unit tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
