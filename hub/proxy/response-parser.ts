/**
 * An incremental HTTP/1.1 response parser for the proxy's own upstream connections.
 *
 * Node's `http.request` costs more CPU per exchange than the rest of the proxy together
 * (ClientRequest, agent bookkeeping, IncomingMessage, stream piping); on the 2-core lab machine that
 * decides throughput. This parser does only what relaying needs: the status line, the headers
 * (already filtered of hop-by-hop ones, ready for `res.writeHead`), and the body framing
 * (RFC 9112 §6.3: no body for HEAD/1xx/204/304, `Transfer-Encoding: chunked` decoded, else
 * `Content-Length`, else until close). Body bytes are handed on as zero-copy slices.
 * Interim 1xx responses are skipped. Anything malformed is an error: the proxy answers 502.
 */
import { CONNECTION, CONTENT_LENGTH, HOP, kindOf, TRANSFER_ENCODING, UPGRADE } from './forward-headers.js';

/** Receives what the parser finds; implemented by the forwarding exchange (no closures). */
export interface ResponseHandler {
  onResponseHead(status: number, reason: string, headers: string[]): void;
  onResponseBody(chunk: Buffer): void;
  /** The head arrived alone and the body is still to come (a stream): show the client the head now. */
  onResponseWaiting(): void;
  /**
   * The response is complete. `last` is its final body bytes when they came with the end (so
   * small bodies go out with one write), else null. `reusable`: the connection may carry another
   * exchange (keep-alive, nothing left over).
   */
  onResponseEnd(reusable: boolean, last: Buffer | null): void;
}

export class ResponseParseError extends Error {
  constructor(message: string) {
    super(`bad response from upstream: ${message}`);
    this.name = 'ResponseParseError';
  }
}

const MAX_HEAD = 64 * 1024;

const S_HEAD: number = 0;
const S_LENGTH: number = 1;
const S_CHUNK_SIZE: number = 2;
const S_CHUNK_DATA: number = 3;
const S_CHUNK_CRLF: number = 4;
const S_TRAILERS: number = 5;
const S_CLOSE: number = 6;
const S_DONE: number = 7;

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

export class ResponseParser {
  private state: number = S_DONE;
  private handler: ResponseHandler | null = null;
  private headBuf: Buffer | null = null;
  private remaining = 0;
  private keepAlive = false;
  private noBody = false;
  /** Partial chunk-size or trailer line carried over between reads. */
  private line = '';

  /** Starts a new response; `head` is true for a HEAD request (no body whatever the headers say). */
  start(handler: ResponseHandler, head: boolean): void {
    this.handler = handler;
    this.state = S_HEAD;
    this.headBuf = null;
    this.noBody = head;
    this.line = '';
  }

  /** True once the head arrived (the client has been answered in part). */
  get headDone(): boolean {
    return this.state !== S_HEAD;
  }

  get done(): boolean {
    return this.state === S_DONE;
  }

  /** True while the body runs until the upstream closes the connection. */
  get readsUntilClose(): boolean {
    return this.state === S_CLOSE;
  }

  /** Feeds bytes; throws ResponseParseError on malformed input. */
  execute(chunk: Buffer): void {
    let data = chunk;
    while (data.length > 0) {
      switch (this.state) {
        case S_HEAD:
          data = this.readHead(data);
          if (this.state === S_DONE) {
            this.complete(data.length);
            return;
          }
          if (data.length === 0 && this.state !== S_HEAD) this.handler!.onResponseWaiting();
          break;
        case S_LENGTH: {
          const n = this.remaining;
          if (data.length < n) {
            this.remaining = n - data.length;
            this.handler!.onResponseBody(data);
            return;
          }
          this.remaining = 0;
          this.complete(data.length - n, data.length === n ? data : data.subarray(0, n));
          return;
        }
        case S_CHUNK_SIZE:
          data = this.readChunkSize(data);
          break;
        case S_CHUNK_DATA: {
          const n = this.remaining;
          if (data.length <= n) {
            this.remaining = n - data.length;
            if (this.remaining === 0) this.state = S_CHUNK_CRLF;
            this.handler!.onResponseBody(data);
            return;
          }
          this.handler!.onResponseBody(data.subarray(0, n));
          data = data.subarray(n);
          this.remaining = 0;
          this.state = S_CHUNK_CRLF;
          break;
        }
        case S_CHUNK_CRLF:
          data = this.readChunkCrlf(data);
          break;
        case S_TRAILERS:
          data = this.readTrailers(data);
          if (this.state === S_DONE) {
            this.complete(data.length);
            return;
          }
          break;
        case S_CLOSE:
          this.handler!.onResponseBody(data);
          return;
        default:
          // bytes while no response is expected: the connection cannot be trusted any more
          throw new ResponseParseError('data after the end of the response');
      }
    }
  }

  /** The upstream closed the connection: ends a close-delimited body; false if the response was cut short. */
  finishOnClose(): boolean {
    if (this.state === S_CLOSE) {
      this.state = S_DONE;
      this.handler!.onResponseEnd(false, null);
      return true;
    }
    return this.state === S_DONE;
  }

  /** The response is complete; bytes left over make the connection unusable. */
  private complete(rest: number, last: Buffer | null = null): void {
    this.state = S_DONE;
    this.handler!.onResponseEnd(this.keepAlive && rest === 0, last);
  }

  private readHead(chunk: Buffer): Buffer {
    let buf = chunk;
    let from = 0;
    if (this.headBuf !== null) {
      from = Math.max(0, this.headBuf.length - 3);
      buf = Buffer.concat([this.headBuf, chunk]);
      this.headBuf = null;
    }
    const end = buf.indexOf(CRLFCRLF, from);
    if (end === -1) {
      if (buf.length > MAX_HEAD) throw new ResponseParseError('response head too large');
      this.headBuf = buf === chunk ? Buffer.from(chunk) : buf;
      return EMPTY;
    }
    this.parseHead(buf.toString('latin1', 0, end));
    return buf.subarray(end + 4);
  }

  private parseHead(head: string): void {
    // status line: HTTP/1.x SSS reason
    const eol = head.indexOf('\r\n');
    const statusLine = eol === -1 ? head : head.slice(0, eol);
    if (
      statusLine.length < 12 ||
      !statusLine.startsWith('HTTP/1.') ||
      statusLine.charCodeAt(8) !== 32 ||
      (statusLine.length > 12 && statusLine.charCodeAt(12) !== 32)
    ) {
      throw new ResponseParseError('invalid status line');
    }
    const minor = statusLine.charCodeAt(7) - 48;
    const status = Number(statusLine.slice(9, 12));
    if (!Number.isInteger(status) || status < 100) throw new ResponseParseError('invalid status line');
    if (status >= 100 && status < 200) {
      if (status === 101) throw new ResponseParseError('unexpected protocol switch');
      return; // interim response (100 Continue, 103 Early Hints): wait for the final one
    }
    const reason = statusLine.length > 13 ? statusLine.slice(13) : '';
    const headers: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let te = false;
    let connection = '';
    let pos = eol === -1 ? head.length : eol + 2;
    while (pos < head.length) {
      let next = head.indexOf('\r\n', pos);
      if (next === -1) next = head.length;
      const colon = head.indexOf(':', pos);
      if (colon === -1 || colon > next || colon === pos) throw new ResponseParseError('invalid header line');
      const c0 = head.charCodeAt(pos);
      if (c0 === 32 || c0 === 9) throw new ResponseParseError('folded header line');
      const name = head.slice(pos, colon);
      const value = trimOws(head, colon + 1, next);
      pos = next + 2;
      switch (kindOf(name)) {
        case CONTENT_LENGTH: {
          if (!/^\d{1,15}$/.test(value)) throw new ResponseParseError('invalid Content-Length');
          const n = Number(value);
          if (contentLength !== -1 && contentLength !== n) throw new ResponseParseError('conflicting Content-Length');
          if (contentLength === -1) headers.push(name, value);
          contentLength = n;
          break;
        }
        case TRANSFER_ENCODING:
          te = true;
          chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
          break;
        case CONNECTION:
          connection = connection === '' ? value : connection + ',' + value;
          break;
        case HOP:
        case UPGRADE:
          break;
        default:
          headers.push(name, value);
      }
    }
    let keepAlive = minor === 1;
    let out = headers;
    if (connection !== '') {
      const listed = connection.toLowerCase().split(',').map((t) => t.trim());
      if (listed.includes('close')) keepAlive = false;
      const drop = listed.filter((t) => t !== '' && t !== 'close' && t !== 'keep-alive');
      if (drop.length > 0) {
        out = [];
        for (let i = 0; i < headers.length; i += 2) if (!drop.includes(headers[i].toLowerCase())) out.push(headers[i], headers[i + 1]);
      }
    }
    this.keepAlive = keepAlive;
    const handler = this.handler!;
    if (this.noBody || status === 204 || status === 304) {
      this.state = S_DONE;
      handler.onResponseHead(status, reason, out);
      return;
    }
    if (te) {
      if (chunked) {
        // the client gets Node's own chunking; a Content-Length next to chunked is dropped (RFC 9112 §6.3)
        if (contentLength !== -1) out = dropContentLength(out);
        this.state = S_CHUNK_SIZE;
        this.line = '';
      } else {
        this.state = S_CLOSE;
        this.keepAlive = false;
      }
      handler.onResponseHead(status, reason, out);
      return;
    }
    if (contentLength !== -1) {
      this.remaining = contentLength;
      this.state = contentLength === 0 ? S_DONE : S_LENGTH;
      handler.onResponseHead(status, reason, out);
      return;
    }
    this.state = S_CLOSE;
    this.keepAlive = false;
    handler.onResponseHead(status, reason, out);
  }

  private readChunkSize(data: Buffer): Buffer {
    const lf = data.indexOf(10);
    if (lf === -1) {
      this.line += data.toString('latin1', 0, data.length);
      if (this.line.length > 1024) throw new ResponseParseError('chunk size line too long');
      return EMPTY;
    }
    let line = this.line + data.toString('latin1', 0, lf);
    this.line = '';
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const semi = line.indexOf(';');
    const hex = (semi === -1 ? line : line.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new ResponseParseError('invalid chunk size');
    const size = parseInt(hex, 16);
    if (size === 0) this.state = S_TRAILERS;
    else {
      this.remaining = size;
      this.state = S_CHUNK_DATA;
    }
    return data.subarray(lf + 1);
  }

  private readChunkCrlf(data: Buffer): Buffer {
    // expects "\r\n" (a bare "\n" is tolerated), possibly split across reads
    let i = 0;
    if (this.line === '' && data[0] === 13) {
      this.line = '\r';
      i = 1;
    }
    if (i >= data.length) return EMPTY;
    if (data[i] !== 10) throw new ResponseParseError('missing CRLF after chunk');
    this.line = '';
    this.state = S_CHUNK_SIZE;
    return data.subarray(i + 1);
  }

  private readTrailers(data: Buffer): Buffer {
    // trailer fields are dropped (Node re-chunks the body for the client); an empty line ends the message
    let pos = 0;
    for (;;) {
      const lf = data.indexOf(10, pos);
      if (lf === -1) {
        this.line += data.toString('latin1', pos, data.length);
        if (this.line.length > MAX_HEAD) throw new ResponseParseError('trailers too large');
        return EMPTY;
      }
      const line = this.line + data.toString('latin1', pos, lf);
      this.line = '';
      pos = lf + 1;
      if (line === '' || line === '\r') {
        this.state = S_DONE;
        return data.subarray(pos);
      }
    }
  }
}

const EMPTY = Buffer.alloc(0);

function trimOws(s: string, start: number, end: number): string {
  let a = start;
  let b = end;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return s.slice(a, b);
}

function dropContentLength(headers: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (kindOf(headers[i]) !== CONTENT_LENGTH) out.push(headers[i], headers[i + 1]);
  return out;
}
