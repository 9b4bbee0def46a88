import { describe, expect, it } from 'vitest';
import { generatePassword, PASSWORD_ALPHABET } from '../../../hub/accounts/passwords.js';
import { passwordProblem } from '../../../hub/accounts/roster.js';

describe('generated passwords', () => {
  it('are xxxx-xxxx-xxxx from the unambiguous alphabet, and pass the password rule', () => {
    for (let i = 0; i < 200; i++) {
      const pw = generatePassword();
      expect(pw).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
      expect(pw).not.toMatch(/[0O1lI]/);
      expect(passwordProblem(pw)).toBeNull();
    }
  });

  it('the alphabet has no look-alikes and no repeats', () => {
    expect(PASSWORD_ALPHABET).not.toMatch(/[0O1lI]/);
    expect(new Set(PASSWORD_ALPHABET).size).toBe(PASSWORD_ALPHABET.length);
    expect(PASSWORD_ALPHABET.length).toBe(33);
  });

  it('uses every symbol of the alphabet and does not repeat passwords', () => {
    const seen = new Set<string>();
    const symbols = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const pw = generatePassword();
      seen.add(pw);
      for (const ch of pw.replace(/-/g, '')) symbols.add(ch);
    }
    expect(seen.size).toBe(2000);
    expect([...symbols].sort().join('')).toBe([...PASSWORD_ALPHABET].sort().join(''));
  });
});
