import { describe, expect, it } from 'vitest';
import { hasDotSegment, parseRequestTarget } from '../../../hub/proxy/request-path.js';

describe('parseRequestTarget', () => {
  it('splits the path from the query and keeps the target unchanged', () => {
    expect(parseRequestTarget('/user/alice/api?token=x&a=/../')).toEqual({ path: '/user/alice/api', url: '/user/alice/api?token=x&a=/../' });
    expect(parseRequestTarget('/')).toEqual({ path: '/', url: '/' });
    expect(parseRequestTarget('/user/alice/file%20name.ipynb')?.path).toBe('/user/alice/file%20name.ipynb');
    expect(parseRequestTarget('/user/alice/.hidden/..x/...')?.path).toBe('/user/alice/.hidden/..x/...');
    expect(parseRequestTarget('/user/alice/a%2ebc')?.path).toBe('/user/alice/a%2ebc');
  });

  it('refuses dot-segments, plain or percent-encoded', () => {
    for (const url of [
      '/user/alice/../bob/',
      '/user/alice/..',
      '/user/alice/./x',
      '/user/alice/%2e%2e/bob/',
      '/user/alice/%2E%2E/bob/',
      '/user/alice/.%2e/bob/',
      '/user/alice/%2e./bob/',
      '/user/alice/%2e/bob',
      '/user/bob/../alice/?x=1',
    ]) {
      expect(parseRequestTarget(url), url).toBeNull();
    }
  });

  it('turns absolute-form into origin-form and refuses other forms', () => {
    expect(parseRequestTarget('http://example.org:8000/user/alice/x?y')).toEqual({ path: '/user/alice/x', url: '/user/alice/x?y' });
    expect(parseRequestTarget('http://example.org')).toEqual({ path: '/', url: '/' });
    expect(parseRequestTarget('HTTP://example.org/a/../b')).toBeNull();
    expect(parseRequestTarget('*')).toBeNull();
    expect(parseRequestTarget('example.org:443')).toBeNull();
  });
});

describe('hasDotSegment', () => {
  it('looks at whole segments only', () => {
    expect(hasDotSegment('/a/.../b')).toBe(false);
    expect(hasDotSegment('/a/..b')).toBe(false);
    expect(hasDotSegment('/a/%2e%2e%2e')).toBe(false);
    expect(hasDotSegment('/a/..')).toBe(true);
    expect(hasDotSegment('/..')).toBe(true);
  });
});
