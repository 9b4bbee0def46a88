import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalogue, HubError } from '../../hub/errors.js';

describe('error catalogue', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

  it.each(Object.entries(errorCatalogue))('%s is documented with its status', (code, { status }) => {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\``));
    expect(row, `docs/errors.md has no row for ${code}`).toBeDefined();
    expect(row).toContain(`| ${status} |`);
  });

  it('documents no code that does not exist', () => {
    const documented = [...doc.matchAll(/^\| `(HUB_ERR_[A-Z_]+)`/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(errorCatalogue).sort());
  });

  it('HubError carries code, status and message', () => {
    const err = new HubError('HUB_ERR_LOCKED_OUT', 'wait');
    expect(err).toMatchObject({ code: 'HUB_ERR_LOCKED_OUT', status: 429, message: 'wait' });
  });
});
