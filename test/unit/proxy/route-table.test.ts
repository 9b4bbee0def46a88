import { describe, expect, it } from 'vitest';
import { canonicalPrefix, parseTarget, RouteError, RouteTable } from '../../../hub/proxy/route-table.js';

function table(): RouteTable {
  const t = new RouteTable();
  t.set('/', 'http://127.0.0.1:8081', { hub: true });
  t.set('/user/alice/', 'http://127.0.0.1:9001', { user: 'alice', server_name: '' });
  t.set('/user/bob', 'http://127.0.0.1:9002', { user: 'bob', server_name: '' });
  t.set('/user/bob/lab/', 'http://127.0.0.1:9003', { user: 'bob', server_name: 'lab' });
  return t;
}

describe('RouteTable', () => {
  it('picks the longest matching prefix on whole segments', () => {
    const t = table();
    expect(t.match('/user/alice/api/kernels')?.prefix).toBe('/user/alice/');
    expect(t.match('/user/bob/lab/tree')?.prefix).toBe('/user/bob/lab/');
    expect(t.match('/user/bob/labx/tree')?.prefix).toBe('/user/bob/');
    expect(t.match('/user/bob/')?.prefix).toBe('/user/bob/');
    expect(t.match('/user/alicex/')?.prefix).toBe('/');
    expect(t.match('/hub/login')?.prefix).toBe('/');
    expect(t.match('/')?.prefix).toBe('/');
  });

  it('matches a prefix without its trailing slash, like CHP', () => {
    const t = table();
    expect(t.match('/user/alice')?.prefix).toBe('/user/alice/');
    expect(t.match('/user/bob/lab')?.prefix).toBe('/user/bob/lab/');
  });

  it('never decodes the path: %2F stays inside its segment', () => {
    const t = table();
    expect(t.match('/user/alice%2Fbob/')?.prefix).toBe('/');
    expect(t.match('/user/alice%2fbob/x')?.prefix).toBe('/');
    expect(t.match('/user/%62ob/')?.prefix).toBe('/');
  });

  it('answers undefined without a root route', () => {
    const t = new RouteTable();
    t.set('/user/alice/', 'http://127.0.0.1:9001');
    expect(t.match('/hub/')).toBeUndefined();
    expect(t.match('/user/alice/x')?.target).toBe('http://127.0.0.1:9001');
  });

  it('keeps canonical prefixes and parsed targets', () => {
    const t = table();
    expect(Object.keys(t.all()).sort()).toEqual(['/', '/user/alice/', '/user/bob/', '/user/bob/lab/']);
    const bob = t.entry('user/bob');
    expect(bob).toMatchObject({ prefix: '/user/bob/', host: '127.0.0.1', port: 9002, hub: false });
    expect(t.hubEntry()?.prefix).toBe('/');
    expect(t.get('/user/bob/')).toEqual({ target: 'http://127.0.0.1:9002', data: { user: 'bob', server_name: '' }, last_activity: null });
  });

  it('deletes routes and re-indexes depth', () => {
    const t = table();
    expect(t.delete('/user/bob/lab')).toBe(true);
    expect(t.delete('/user/bob/lab/')).toBe(false);
    expect(t.match('/user/bob/lab/tree')?.prefix).toBe('/user/bob/');
  });

  it('keeps activity when a route is re-added with the same target, resets it for a new target', () => {
    const t = table();
    t.entry('/user/alice/')!.lastActivity = 1_700_000_000_000;
    t.set('/user/alice/', 'http://127.0.0.1:9001', { user: 'alice' });
    expect(t.get('/user/alice/')?.last_activity).toBe(new Date(1_700_000_000_000).toISOString());
    t.set('/user/alice/', 'http://127.0.0.1:9999', { user: 'alice' });
    expect(t.get('/user/alice/')?.last_activity).toBeNull();
  });

  it('tells listeners about changes', () => {
    const t = new RouteTable();
    let n = 0;
    t.onChange(() => n++);
    t.set('/a/', 'http://127.0.0.1:1');
    t.delete('/a/');
    t.delete('/a/');
    expect(n).toBe(2);
  });

  it('rejects bad prefixes and targets', () => {
    for (const p of ['/user/../bob/', '/user/%2e%2e/', '/a//b/', '/a b/', '/a?b/', '/./']) {
      expect(() => canonicalPrefix(p), p).toThrow(RouteError);
    }
    for (const target of ['ftp://x', 'not a url', 'http://127.0.0.1:1/path', 'http://u:p@127.0.0.1:1', 'https://127.0.0.1:1']) {
      expect(() => parseTarget(target), target).toThrow(RouteError);
    }
    expect(parseTarget('http://127.0.0.1:8081/')).toEqual({ target: 'http://127.0.0.1:8081', host: '127.0.0.1', port: 8081 });
    expect(parseTarget('http://[::1]:8081')).toEqual({ target: 'http://[::1]:8081', host: '::1', port: 8081 });
  });
});
