/**
 * The proxy's upstream connections: raw keep-alive TCP sockets, one pool per target (host:port).
 * configurable-http-proxy's best-known bugs are socket leaks and port exhaustion from unbounded,
 * unreused upstream connections; here sockets are reused (LIFO), bounded per target and in total
 * (requests queue beyond the bound), time out when connecting or idle, and free sockets are closed
 * after `freeSocketMs`, shorter than Node's own 5 s server keep-alive, so a server never closes a
 * socket just as it is reused. Per exchange the pool costs a few property writes: listeners and
 * timers belong to the socket, not to the request.
 */
import net from 'node:net';
import { ResponseParser } from './response-parser.js';

export interface UpstreamOptions {
  /** Concurrent connections per target. */
  maxSockets: number;
  /** Idle keep-alive connections kept per target. */
  maxFreeSockets: number;
  /** Connections across all targets. */
  maxTotalSockets: number;
  connectTimeoutMs: number;
  /** A busy connection with no bytes either way for this long is closed (the exchange fails). */
  idleTimeoutMs: number;
  /** A free connection unused for this long is closed. */
  freeSocketMs: number;
}

export const defaultUpstreamOptions: UpstreamOptions = {
  maxSockets: 256,
  maxFreeSockets: 64,
  maxTotalSockets: 4096,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  freeSocketMs: 4_000,
};

/** What uses a connection: the forwarding exchange. */
export interface ConnectionUser {
  /** A connection was assigned; write the request. */
  onConnection(conn: UpstreamConnection): void;
  /** The connection failed or closed before the exchange completed. */
  onUpstreamError(err: Error): void;
  /** The socket's write buffer drained (request body backpressure). */
  onUpstreamDrain(): void;
}

/** An error for a connect or idle timeout, with a `code` like Node's own socket errors. */
export class UpstreamTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamTimeoutError';
  }
}

/** Raised on a connection closed by the upstream in the middle of an exchange. */
export class UpstreamClosedError extends Error {
  readonly code = 'ECONNRESET';
  constructor() {
    super('upstream closed the connection');
    this.name = 'UpstreamClosedError';
  }
}

class TargetPool {
  readonly idle: UpstreamConnection[] = [];
  readonly waiting: ConnectionUser[] = [];
  /** Open connections of this target, busy or idle. */
  open = 0;
  constructor(
    readonly host: string,
    readonly port: number,
  ) {}
}

export class UpstreamConnection {
  readonly socket: net.Socket;
  readonly parser = new ResponseParser();
  user: ConnectionUser | null = null;
  /** True when this connection carried an exchange before (a stale keep-alive socket may fail). */
  reused = false;
  freeSince = 0;
  private error: Error | null = null;

  constructor(
    readonly pool: UpstreamPool,
    readonly target: TargetPool,
  ) {
    const socket = net.connect({ host: target.host, port: target.port, noDelay: true });
    this.socket = socket;
    socket.setTimeout(pool.settings.connectTimeoutMs);
    socket.once('connect', this.onConnect);
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('end', this.onEnd);
    socket.on('timeout', this.onTimeout);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  /** Sends (part of) a request; a string is sent as latin1 (header bytes as received). */
  write(data: string | Buffer): boolean {
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  /** Ends the connection at once (client gone, broken response). */
  destroy(err?: Error): void {
    if (err) this.error ??= err;
    this.socket.destroy();
  }

  private readonly onConnect = (): void => {
    this.socket.setTimeout(this.pool.settings.idleTimeoutMs);
    this.socket.setKeepAlive(true, 30_000);
  };

  private readonly onData = (chunk: Buffer): void => {
    const user = this.user;
    if (user === null) {
      // bytes on an idle connection: nothing can be trusted on it any more
      this.socket.destroy();
      return;
    }
    try {
      this.parser.execute(chunk);
    } catch (err) {
      this.error ??= err as Error;
      this.socket.destroy();
    }
  };

  private readonly onDrain = (): void => {
    this.user?.onUpstreamDrain();
  };

  private readonly onEnd = (): void => {
    // the upstream finished sending: a close-delimited body ends here
    if (this.user !== null) this.parser.finishOnClose();
    this.socket.destroy();
  };

  private readonly onTimeout = (): void => {
    this.error ??= new UpstreamTimeoutError(this.socket.connecting ? 'upstream connect timed out' : 'upstream idle timeout');
    this.socket.destroy();
  };

  private readonly onError = (err: Error): void => {
    this.error ??= err;
  };

  private readonly onClose = (): void => {
    const user = this.user;
    this.user = null;
    this.pool.closed(this);
    if (user !== null) user.onUpstreamError(this.error ?? new UpstreamClosedError());
  };
}

export class UpstreamPool {
  readonly settings: UpstreamOptions;
  private readonly targets = new Map<string, TargetPool>();
  private readonly connections = new Set<UpstreamConnection>();
  private total = 0;
  private readonly sweeper: NodeJS.Timeout;
  private closing = false;

  constructor(options: Partial<UpstreamOptions> = {}) {
    this.settings = { ...defaultUpstreamOptions, ...options };
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, this.settings.freeSocketMs));
    this.sweeper.unref();
  }

  /**
   * Gives `user` a connection to host:port now (idle or new) or as soon as one frees up.
   * `fresh` skips idle connections (a retry after a stale one failed).
   */
  acquire(host: string, port: number, user: ConnectionUser, fresh = false): void {
    if (this.closing) {
      user.onUpstreamError(new Error('the proxy is shutting down'));
      return;
    }
    const key = host + ':' + port;
    let target = this.targets.get(key);
    if (target === undefined) {
      target = new TargetPool(host, port);
      this.targets.set(key, target);
    }
    if (!fresh) {
      const idle = target.idle;
      while (idle.length > 0) {
        const conn = idle.pop()!;
        if (conn.socket.destroyed) continue;
        conn.reused = true;
        conn.user = user;
        user.onConnection(conn);
        return;
      }
    }
    if (target.open < this.settings.maxSockets && this.total < this.settings.maxTotalSockets) {
      this.connect(target, user);
      return;
    }
    if (fresh && target.idle.length > 0) {
      // at the bound: make room by closing an idle connection
      target.idle.shift()!.destroy();
      this.connect(target, user);
      return;
    }
    target.waiting.push(user);
  }

  /** Withdraws a user still waiting for a connection (its client went away). */
  cancel(host: string, port: number, user: ConnectionUser): void {
    const target = this.targets.get(host + ':' + port);
    if (target === undefined) return;
    const i = target.waiting.indexOf(user);
    if (i !== -1) target.waiting.splice(i, 1);
  }

  /** The exchange on `conn` is over; keep the connection for the next one if `reusable`. */
  release(conn: UpstreamConnection, reusable: boolean): void {
    conn.user = null;
    if (!reusable || this.closing || conn.socket.destroyed) {
      conn.socket.destroy();
      return;
    }
    const target = conn.target;
    const next = target.waiting.shift();
    if (next !== undefined) {
      conn.reused = true;
      conn.user = next;
      next.onConnection(conn);
      return;
    }
    if (target.idle.length >= this.settings.maxFreeSockets) {
      conn.socket.destroy();
      return;
    }
    conn.freeSince = Date.now();
    target.idle.push(conn);
  }

  /** Called by a connection once its socket closed. */
  closed(conn: UpstreamConnection): void {
    const target = conn.target;
    target.open--;
    this.total--;
    this.connections.delete(conn);
    const i = target.idle.indexOf(conn);
    if (i !== -1) target.idle.splice(i, 1);
    if (!this.closing) {
      // a slot is free: serve a waiting exchange, of this target first
      if (target.waiting.length > 0) {
        if (target.open < this.settings.maxSockets && this.total < this.settings.maxTotalSockets) this.connect(target, target.waiting.shift()!);
      } else if (this.total < this.settings.maxTotalSockets) {
        for (const t of this.targets.values()) {
          if (t.waiting.length > 0 && t.open < this.settings.maxSockets) {
            this.connect(t, t.waiting.shift()!);
            break;
          }
        }
      }
    }
    if (target.open === 0 && target.waiting.length === 0) this.targets.delete(target.host + ':' + target.port);
  }

  /** Connections per state, for tests and diagnostics. */
  counts(): { open: number; idle: number; waiting: number } {
    let idle = 0;
    let waiting = 0;
    for (const t of this.targets.values()) {
      idle += t.idle.length;
      waiting += t.waiting.length;
    }
    return { open: this.total, idle, waiting };
  }

  /** Closes idle connections unused for longer than `freeSocketMs`. */
  sweep(now = Date.now()): void {
    const limit = now - this.settings.freeSocketMs;
    for (const target of this.targets.values()) {
      for (const conn of [...target.idle]) if (conn.freeSince <= limit) conn.socket.destroy();
    }
  }

  /** Ends every connection; exchanges in flight fail. */
  close(): void {
    this.closing = true;
    clearInterval(this.sweeper);
    for (const target of this.targets.values()) {
      const waiting = target.waiting.splice(0);
      for (const user of waiting) user.onUpstreamError(new Error('the proxy is shutting down'));
    }
    for (const conn of [...this.connections]) conn.socket.destroy();
  }

  private connect(target: TargetPool, user: ConnectionUser): void {
    target.open++;
    this.total++;
    const conn = new UpstreamConnection(this, target);
    this.connections.add(conn);
    conn.user = user;
    user.onConnection(conn);
  }
}
