import { describe, expect, it } from 'vitest';

import { apiUrl, normalizeBaseUrl, segment } from './api.js';

describe('normalizeBaseUrl', () => {
  it.each([
    ['https://qr.example.com', 'https://qr.example.com'],
    ['https://qr.example.com/', 'https://qr.example.com'],
    ['  https://qr.example.com//  ', 'https://qr.example.com'],
    ['https://qr.example.com/api/v1', 'https://qr.example.com'],
    ['https://qr.example.com/api/v1/qr', 'https://qr.example.com'],
    ['https://example.com/qrflow/', 'https://example.com/qrflow'],
    ['qr.example.com', 'https://qr.example.com'],
    ['HTTPS://QR.Example.com:8443/', 'https://qr.example.com:8443'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
    ['http://localhost:3000', 'http://localhost:3000'],
  ])('turns %j into %j', (input, expected) => {
    expect(normalizeBaseUrl(input)).toBe(expected);
  });

  it.each(['', '   ', 'http://qr.example.com', 'ftp://qr.example.com', 'https://'])('rejects %j', (input) => {
    expect(() => normalizeBaseUrl(input)).toThrow();
  });
});

describe('apiUrl and segment', () => {
  it('joins the server, /api/v1 and the path', () => {
    expect(apiUrl({ authData: { base_url: 'https://qr.example.com/' } }, '/qr')).toBe('https://qr.example.com/api/v1/qr');
  });

  it('keeps a typed ID inside its path segment', () => {
    expect(segment('../keys')).toBe('..%2Fkeys');
    expect(segment(' qr_1 ')).toBe('qr_1');
  });
});
