import { hash } from 'node:crypto';
import { BASE62, randomBase62 } from '../random.js';
import type { DataMode } from '../test-mode/mode.js';

export const KEY_PREFIX = 'qr_live_';
/** Test-mode keys: the same shape and checksum, another prefix of the same length. */
export const TEST_KEY_PREFIX = 'qr_test_';
const PREFIXES: Record<DataMode, string> = { live: KEY_PREFIX, test: TEST_KEY_PREFIX };
const BODY_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const RANDOM_LENGTH = BODY_LENGTH - CHECKSUM_LENGTH;
const KEY_PATTERN = /^qr_(?:live|test)_[0-9A-Za-z]{32}$/;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC32 of the random part, as 6 base62 digits (62^6 > 2^32). */
export function checksum(randomPart: string): string {
  let value = crc32(randomPart);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** A new API key secret: `qr_live_` (or `qr_test_`) + 26 random base62 characters + a 6-character checksum. */
export function generateKeySecret(mode: DataMode = 'live'): string {
  const randomPart = randomBase62(RANDOM_LENGTH);
  return `${PREFIXES[mode]}${randomPart}${checksum(randomPart)}`;
}

/** The mode a well-formed secret's prefix names. */
export function modeOfSecret(secret: string): DataMode {
  return secret.startsWith(TEST_KEY_PREFIX) ? 'test' : 'live';
}

/** True when the text has the key shape and its checksum matches; no lookup needed to reject typos. */
export function isWellFormedKey(text: string): boolean {
  if (!KEY_PATTERN.test(text)) return false;
  const body = text.slice(KEY_PREFIX.length);
  return checksum(body.slice(0, RANDOM_LENGTH)) === body.slice(RANDOM_LENGTH);
}

export function hashSecret(secret: string): string {
  // the one-shot hash: no Hash object per request (this runs on every API call)
  return hash('sha256', secret, 'hex');
}

/** What may be shown of a key: `qr_live_` (or `qr_test_`) and its first 4 characters. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, KEY_PREFIX.length + 4);
}
