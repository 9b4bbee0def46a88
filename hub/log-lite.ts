/**
 * A small JSON-lines logger with pino's line format (`level`, `time`, `pid`, `name`, bindings,
 * fields, `msg`) for the proxy process, where pino's modules alone cost ~8 MB of the 110 MB that
 * hub and proxy may use together. Same redaction as the hub's logger; writes never block.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { REDACTED_KEYS, type Logger } from './logger.js';

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

function scrub(value: unknown, depth: number): unknown {
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  if (!value || typeof value !== 'object' || depth > 2) return value;
  if (Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = REDACTED_KEYS.includes(k.toLowerCase()) ? '[redacted]' : scrub(v, depth + 1);
  return out;
}

class LiteLogger implements Logger {
  readonly levelVal: number;

  constructor(
    private readonly sinks: WriteStream[] | NodeJS.WritableStream[],
    private readonly prefix: string,
    level: string,
  ) {
    this.levelVal = LEVELS[level] ?? 30;
  }

  isLevelEnabled(level: string): boolean {
    return (LEVELS[level] ?? Infinity) >= this.levelVal;
  }

  child(bindings: Record<string, unknown>): Logger {
    const extra = JSON.stringify(scrub(bindings, 0)).slice(1, -1);
    return new LiteLogger(this.sinks, extra ? `${this.prefix},${extra}` : this.prefix, levelName(this.levelVal));
  }

  private write(level: number, a: object | string, msg?: string): void {
    if (level < this.levelVal) return;
    let fields = '';
    let text = msg;
    if (typeof a === 'string') text = a;
    else {
      const body = JSON.stringify(scrub(a, 0));
      if (body.length > 2) fields = `,${body.slice(1, -1)}`;
    }
    const line = `{"level":${level},"time":${Date.now()}${this.prefix}${fields}${text === undefined ? '' : `,"msg":${JSON.stringify(text)}`}}\n`;
    for (const s of this.sinks) s.write(line);
  }

  fatal = (a: object | string, msg?: string) => this.write(60, a, msg);
  error = (a: object | string, msg?: string) => this.write(50, a, msg);
  warn = (a: object | string, msg?: string) => this.write(40, a, msg);
  info = (a: object | string, msg?: string) => this.write(30, a, msg);
  debug = (a: object | string, msg?: string) => this.write(20, a, msg);
  trace = (a: object | string, msg?: string) => this.write(10, a, msg);
}

function levelName(val: number): string {
  return Object.keys(LEVELS).find((k) => LEVELS[k] === val) ?? 'info';
}

/** Same options as createLogger in log.ts. */
export function createLiteLogger(opts: { name: string; level?: string; logDir?: string; stderr?: boolean }): Logger {
  const sinks: NodeJS.WritableStream[] = [];
  if (opts.logDir) {
    mkdirSync(opts.logDir, { recursive: true, mode: 0o750 });
    sinks.push(createWriteStream(join(opts.logDir, `${opts.name}.log`), { flags: 'a', mode: 0o640 }));
  }
  if (opts.stderr !== false) sinks.push(process.stderr);
  return new LiteLogger(sinks, `,"pid":${process.pid},"name":${JSON.stringify(opts.name)}`, opts.level ?? 'info');
}
