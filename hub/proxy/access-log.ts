/**
 * One access-log line per proxied request, at a level chosen by status class (as CHP does):
 * 1xx/2xx debug (so the default `info` level costs nothing on the hot path), 3xx info, 4xx warn,
 * 5xx error. Query strings are stripped, since tokens travel in them (`?token=…`).
 */
import type { Logger } from '../log.js';

const DEBUG = 20;
const INFO = 30;
const WARN = 40;
const ERROR = 50;

function levelFor(status: number): number {
  return status < 300 ? DEBUG : status < 400 ? INFO : status < 500 ? WARN : ERROR;
}

/** The URL as logged: path only. */
export function logUrl(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

export class AccessLog {
  constructor(private readonly logger: Logger) {}

  /** True when a line for this status would be written; callers can skip all work otherwise. */
  enabled(status: number): boolean {
    return levelFor(status) >= this.logger.levelVal;
  }

  /** `started` is `Date.now()` at request start; `detail` is an error summary, never a header. */
  write(status: number, method: string, url: string, started: number, target: string, detail?: string): void {
    const level = levelFor(status);
    if (level < this.logger.levelVal) return;
    const line = { status, method, url: logUrl(url), ms: Date.now() - started, target, ...(detail ? { err: detail } : {}) };
    const msg = `${status} ${method} ${line.url}`;
    if (level === DEBUG) this.logger.debug(line, msg);
    else if (level === INFO) this.logger.info(line, msg);
    else if (level === WARN) this.logger.warn(line, msg);
    else this.logger.error(line, msg);
  }
}
