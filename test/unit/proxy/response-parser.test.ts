import { describe, expect, it } from 'vitest';
import { ResponseParseError, ResponseParser, type ResponseHandler } from '../../../hub/proxy/response-parser.js';

class Recorder implements ResponseHandler {
  status = 0;
  reason = '';
  headers: string[] = [];
  body: Buffer[] = [];
  ended: { reusable: boolean } | null = null;
  onResponseHead(status: number, reason: string, headers: string[]): void {
    this.status = status;
    this.reason = reason;
    this.headers = headers;
  }
  waiting = 0;
  onResponseBody(chunk: Buffer): void {
    this.body.push(Buffer.from(chunk));
  }
  onResponseWaiting(): void {
    this.waiting++;
  }
  onResponseEnd(reusable: boolean, last: Buffer | null): void {
    if (last) this.body.push(Buffer.from(last));
    this.ended = { reusable };
  }
  text(): string {
    return Buffer.concat(this.body).toString('latin1');
  }
}

function parse(wire: string, opts: { head?: boolean; split?: number } = {}): Recorder {
  const rec = new Recorder();
  const p = new ResponseParser();
  p.start(rec, opts.head ?? false);
  const buf = Buffer.from(wire, 'latin1');
  const step = opts.split ?? buf.length;
  for (let i = 0; i < buf.length; i += step) p.execute(buf.subarray(i, i + step));
  return rec;
}

describe('ResponseParser', () => {
  it('parses a Content-Length response and filters hop-by-hop headers', () => {
    const r = parse('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 5\r\n\r\nhello');
    expect(r.status).toBe(200);
    expect(r.reason).toBe('OK');
    expect(r.headers).toEqual(['Content-Type', 'text/plain', 'Content-Length', '5']);
    expect(r.text()).toBe('hello');
    expect(r.ended).toEqual({ reusable: true });
  });

  it('gives the same result byte by byte', () => {
    const wire = 'HTTP/1.1 201 Created\r\nX-A:  spaced value \t\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n';
    for (const split of [1, 2, 3, 7, 1000]) {
      const r = parse(wire, { split });
      expect(r.status, `split ${split}`).toBe(201);
      expect(r.headers).toEqual(['X-A', 'spaced value']);
      expect(r.text()).toBe('hello world');
      expect(r.ended).toEqual({ reusable: true });
    }
  });

  it('skips interim 1xx responses', () => {
    const r = parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    expect(r.status).toBe(200);
    expect(r.text()).toBe('ok');
  });

  it('knows the responses without a body', () => {
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', { head: true })).toMatchObject({ status: 200, ended: { reusable: true } });
    expect(parse('HTTP/1.1 204 No Content\r\n\r\n')).toMatchObject({ status: 204, ended: { reusable: true } });
    expect(parse('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n')).toMatchObject({ status: 304, ended: { reusable: true } });
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')).toMatchObject({ ended: { reusable: true } });
  });

  it('reads a body without length until close, and never reuses that connection', () => {
    const rec = new Recorder();
    const p = new ResponseParser();
    p.start(rec, false);
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n'));
    expect(rec.waiting).toBe(1);
    p.execute(Buffer.from('some'));
    p.execute(Buffer.from(' more'));
    expect(rec.ended).toBeNull();
    expect(p.readsUntilClose).toBe(true);
    expect(p.finishOnClose()).toBe(true);
    expect(rec.text()).toBe('some more');
    expect(rec.ended).toEqual({ reusable: false });
  });

  it('reports a response cut short', () => {
    const rec = new Recorder();
    const p = new ResponseParser();
    p.start(rec, false);
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    expect(p.finishOnClose()).toBe(false);
    expect(rec.ended).toBeNull();
  });

  it('does not reuse after Connection: close, HTTP/1.0 or left-over bytes', () => {
    expect(parse('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx').ended).toEqual({ reusable: false });
    expect(parse('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx').ended).toEqual({ reusable: false });
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxy').ended).toEqual({ reusable: false });
  });

  it('drops Content-Length when the body is chunked', () => {
    const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    expect(r.headers).toEqual([]);
    expect(r.text()).toBe('abc');
  });

  it('rejects malformed responses', () => {
    for (const wire of [
      'HTTP/2 200 OK\r\n\r\n',
      'HTTX/1.1 200 OK\r\n\r\n',
      'HTTP/1.1 2x0 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nno colon\r\n\r\n',
      'HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc',
      'HTTP/1.1 101 Switching Protocols\r\n\r\n',
    ]) {
      expect(() => parse(wire), JSON.stringify(wire)).toThrow(ResponseParseError);
    }
  });

  it('refuses an endless head', () => {
    const rec = new Recorder();
    const p = new ResponseParser();
    p.start(rec, false);
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\n'));
    const junk = Buffer.alloc(8192, 'a');
    expect(() => {
      for (let i = 0; i < 20; i++) p.execute(junk);
    }).toThrow(/too large/);
  });
});
