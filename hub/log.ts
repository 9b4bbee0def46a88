/**
 * LabHub's logger: JSON lines in pino's format (`level`, `time`, `pid`, `name`, bindings, fields,
 * `msg`), so pino's tools read them, with child loggers (`user`, `component`) and redaction of
 * passwords, tokens, cookies and Authorization headers. It is our own rather than pino because
 * pino's modules cost each process ~6-8 MB resident and the hub and proxy together have a 110 MB
 * idle budget; what LabHub uses of pino's API is all here. Writes never block.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

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


const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

function scrub(value: unknown, depth: number): unknown {
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  if (!value || typeof value !== 'object' || depth > 2) return value;
  if (Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = REDACTED_KEYS.includes(k.toLowerCase()) ? '[redacted]' : scrub(v, depth + 1);
  return out;
}

class JsonLinesLogger implements Logger {
  readonly levelVal: number;

  constructor(
    private readonly sinks: Array<{ write(line: string): unknown }>,
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
    return new JsonLinesLogger(this.sinks, extra ? `${this.prefix},${extra}` : this.prefix, levelName(this.levelVal));
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

/**
 * A logger writing JSON lines to `<logDir>/<name>.log` and to stderr. Tests pass `level: 'silent'`.
 */
export function createLogger(opts: {
  name: string;
  level?: string;
  logDir?: string;
  stderr?: boolean;
  /** An extra destination (tests capture lines with it). */
  stream?: { write(line: string): unknown };
}): Logger {
  const sinks: Array<{ write(line: string): unknown }> = [];
  if (opts.stream) sinks.push(opts.stream);
  if (opts.logDir) {
    mkdirSync(opts.logDir, { recursive: true, mode: 0o750 });
    sinks.push(new LogFile(join(opts.logDir, `${opts.name}.log`)));
  }
  if (opts.stderr !== false) sinks.push(process.stderr);
  return new JsonLinesLogger(sinks, `,"pid":${process.pid},"name":${JSON.stringify(opts.name)}`, opts.level ?? 'info');
}

/** A logger that writes nothing; for unit tests and library use. */
export function silentLogger(): Logger {
  return createLogger({ name: 'silent', level: 'silent', stderr: false });
}

/**
 * An append-only log file that survives write errors (a full disk must not crash the hub): the
 * failure is reported once on stderr, lines are dropped meanwhile, and the file is reopened on the
 * first write 10 s later.
 */
class LogFile {
  private stream: WriteStream | null = null;
  private failedAt = 0;

  constructor(private readonly path: string) {}

  write(line: string): void {
    if (!this.stream) {
      if (Date.now() - this.failedAt < 10_000) return;
      const stream = createWriteStream(this.path, { flags: 'a', mode: 0o640 });
      stream.on('error', (err) => {
        if (this.stream === stream) this.stream = null;
        this.failedAt = Date.now();
        process.stderr.write(`labhub: cannot write ${this.path} (${err.message}); log lines are dropped until it works again\n`);
      });
      this.stream = stream;
    }
    this.stream.write(line);
  }
}
