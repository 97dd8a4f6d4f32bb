import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** The one password rule (owners, members, the CLI and first-run setup), also shown by GET /api/v1/setup. */
export const PASSWORD_RULES = {
  min_length: 10,
  max_length: 256,
  text: 'At least 10 characters (and at most 256). A phrase of a few words is easy to remember and hard to guess.',
} as const;

const KEY_LENGTH = 32;
const COST = 16384;

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, { N: COST, r: 8, p: 1 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** A self-describing scrypt hash: `scrypt$N$salt$hash` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt);
  return `scrypt$${COST}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, , salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A hash to compare against when the email is unknown, so both failures cost the same time. */
export const DUMMY_PASSWORD_HASH = `scrypt$${COST}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(KEY_LENGTH).toString('base64url')}`;
