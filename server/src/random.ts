import { randomBytes, randomInt } from 'node:crypto';

/** The only source of randomness: a CSPRNG. */
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random base62 string of the given length, without modulo bias. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(length * 2);
    for (const byte of bytes) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A prefixed id such as `qr_8fK2mP0aZx91`. */
export function newId(prefix: string, length = 14): string {
  return `${prefix}_${randomBase62(length)}`;
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export { randomInt };
