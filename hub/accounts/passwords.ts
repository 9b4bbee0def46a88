/**
 * Generated first passwords for student accounts: easy to read off a printed slip and to type.
 * Lower case only (no Shift, no case mix-ups on a projector) and without the look-alikes
 * `0 O 1 l I`; 12 symbols from 33 give about 60 bits, far beyond what the login lockout lets
 * anyone guess online.
 */
import { randomInt } from 'node:crypto';

/** a–z without `l`, and 2–9. */
export const PASSWORD_ALPHABET = 'abcdefghijkmnopqrstuvwxyz23456789';

/** A fresh random password `xxxx-xxxx-xxxx` (crypto.randomInt: uniform, no modulo bias). */
export function generatePassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 3; g++) {
    let part = '';
    for (let i = 0; i < 4; i++) part += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
    groups.push(part);
  }
  return groups.join('-');
}
