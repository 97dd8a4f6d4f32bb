import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BASE62 } from '../random.js';
import { checksum, crc32, displayPrefix, generateKeySecret, hashSecret, isWellFormedKey, KEY_PREFIX, modeOfSecret, TEST_KEY_PREFIX } from './key-format.js';

/** Every key that differs from `key` in exactly one character of its 32-character body. */
function singleCharacterChanges(key: string): string[] {
  const variants: string[] = [];
  for (let position = KEY_PREFIX.length; position < key.length; position++) {
    for (const replacement of BASE62) {
      if (replacement === key[position]) continue;
      variants.push(key.slice(0, position) + replacement + key.slice(position + 1));
    }
  }
  return variants;
}

describe('API key format', () => {
  it('is qr_live_ followed by 32 base62 characters', () => {
    for (let i = 0; i < 200; i++) expect(generateKeySecret()).toMatch(/^qr_live_[0-9A-Za-z]{32}$/);
  });

  it('ends in a 6-character checksum that is the CRC32 of the 26 random characters in base62', () => {
    const key = generateKeySecret();
    const body = key.slice(KEY_PREFIX.length);
    let decoded = 0;
    for (const character of body.slice(26)) decoded = decoded * 62 + BASE62.indexOf(character);
    expect(decoded).toBe(crc32(body.slice(0, 26)));
  });

  it('computes the standard CRC32 (IEEE) of a known input', () => {
    // the check value of CRC-32/ISO-HDLC
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(checksum('123456789')).toHaveLength(6);
  });

  it('accepts every generated key', () => {
    for (let i = 0; i < 1000; i++) expect(isWellFormedKey(generateKeySecret())).toBe(true);
  });

  it('rejects every single-character change of a generated key', () => {
    for (let sample = 0; sample < 5; sample++) {
      const key = generateKeySecret();
      const accepted = singleCharacterChanges(key).filter(isWellFormedKey);
      expect(accepted).toEqual([]);
    }
  });

  it('rejects a truncated key, a key with an extra character, and surrounding whitespace', () => {
    const key = generateKeySecret();
    expect(isWellFormedKey(key.slice(0, -1))).toBe(false);
    expect(isWellFormedKey(key.slice(0, KEY_PREFIX.length + 26))).toBe(false);
    expect(isWellFormedKey(`${key}A`)).toBe(false);
    expect(isWellFormedKey(` ${key}`)).toBe(false);
    expect(isWellFormedKey(`${key}\n`)).toBe(false);
    expect(isWellFormedKey('')).toBe(false);
  });

  it('rejects a key with the wrong prefix even when its body and checksum are right', () => {
    const body = generateKeySecret().slice(KEY_PREFIX.length);
    for (const prefix of ['QR_LIVE_', 'QR_TEST_', 'qr-live-', 'qr-test-', 'qr_live', 'qr_test', 'qr_sandbox_', 'qr_tes_', 'xx_live_', '']) {
      expect(isWellFormedKey(`${prefix}${body}`)).toBe(false);
    }
  });

  it('rejects characters outside base62 in the body', () => {
    const key = generateKeySecret();
    for (const bad of ['-', '_', '+', '/', '=', 'é', ' ']) {
      expect(isWellFormedKey(`${key.slice(0, 10)}${bad}${key.slice(11)}`)).toBe(false);
    }
  });

  it('hashes a secret as lowercase SHA-256 hex', () => {
    const key = generateKeySecret();
    expect(hashSecret(key)).toBe(createHash('sha256').update(key).digest('hex'));
    expect(hashSecret(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('gives different keys different hashes and never contains the secret', () => {
    const a = generateKeySecret();
    const b = generateKeySecret();
    expect(hashSecret(a)).not.toBe(hashSecret(b));
    expect(hashSecret(a)).not.toContain(a.slice(KEY_PREFIX.length));
  });

  it('shows qr_live_ and the first 4 characters as the display prefix', () => {
    const key = generateKeySecret();
    const prefix = displayPrefix(key);
    expect(prefix).toBe(key.slice(0, 12));
    expect(prefix).toMatch(/^qr_live_[0-9A-Za-z]{4}$/);
  });

  it('makes test-mode keys as qr_test_ followed by 32 base62 characters with the same checksum rule', () => {
    for (let i = 0; i < 200; i++) {
      const key = generateKeySecret('test');
      expect(key).toMatch(/^qr_test_[0-9A-Za-z]{32}$/);
      expect(isWellFormedKey(key)).toBe(true);
      expect(modeOfSecret(key)).toBe('test');
      const body = key.slice(TEST_KEY_PREFIX.length);
      expect(body.slice(26)).toBe(checksum(body.slice(0, 26)));
    }
    expect(modeOfSecret(generateKeySecret())).toBe('live');
    expect(modeOfSecret(generateKeySecret('live'))).toBe('live');
  });

  it('rejects every single-character change of a test-mode key, and its body under a mangled prefix', () => {
    const key = generateKeySecret('test');
    expect(singleCharacterChanges(key).filter(isWellFormedKey)).toEqual([]);
    expect(isWellFormedKey(key.slice(0, -1))).toBe(false);
    expect(isWellFormedKey(`${key}A`)).toBe(false);
    // the checksum covers the body only, so the same body is valid under both prefixes, and under no other
    const body = key.slice(TEST_KEY_PREFIX.length);
    expect(isWellFormedKey(`${KEY_PREFIX}${body}`)).toBe(true);
    expect(isWellFormedKey(`qr_tset_${body}`)).toBe(false);
  });

  it('shows qr_test_ and the first 4 characters as the display prefix of a test-mode key', () => {
    const key = generateKeySecret('test');
    expect(displayPrefix(key)).toBe(key.slice(0, 12));
    expect(displayPrefix(key)).toMatch(/^qr_test_[0-9A-Za-z]{4}$/);
  });

  it('generates 20,000 distinct keys, using every base62 character', () => {
    const keys = new Set<string>();
    const characters = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const key = generateKeySecret();
      keys.add(key);
      for (const character of key.slice(KEY_PREFIX.length, KEY_PREFIX.length + 26)) characters.add(character);
    }
    expect(keys.size).toBe(20_000);
    expect(characters.size).toBe(62);
  });
});
