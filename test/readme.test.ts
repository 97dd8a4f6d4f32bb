import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** Every error code the server's source gives an error it answers with. */
function errorCodesInSource(): string[] {
  const codes = new Set<string>();
  const patterns = [
    /new [A-Z]\w*Error\(\s*'([a-z]+(?:_[a-z]+)+)'/g, // new ConflictError('key_revoked', …)
    /Error\([^;]*?,\s*'([a-z]+(?:_[a-z]+)+)'\)/g, // new ValidationError(message, details, 'invalid_cursor')
    /sendError\([^;]*?,\s*\d{3},\s*'([a-z]+(?:_[a-z]+)+)'/g, // sendError(req, res, 415, 'unsupported_encoding', …)
  ];
  const walk = (directory: string) => {
    for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
      const file = path.join(directory, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith('.ts') && !file.endsWith('.test.ts')) {
        const text = fs.readFileSync(file, 'utf8');
        for (const pattern of patterns) for (const match of text.matchAll(pattern)) codes.add(match[1] as string);
      }
    }
  };
  walk(path.join(ROOT, 'server/src'));
  return [...codes].sort();
}

describe('the README matches the server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ plan: 'team' });
  });
  afterAll(async () => {
    await server.cleanup();
  });

  it('names every error code the server throws', () => {
    const codes = errorCodesInSource();
    expect(codes).toContain('invalid_credentials');
    expect(codes).toContain('missing_api_key');
    expect(codes.filter((code) => !README.includes(`\`${code}\``))).toEqual([]);
  });

  it('shows the RateLimit-Policy and RateLimit headers in the form the server sends them', async () => {
    const { secret } = await server.createKey();
    const response = await server.request('GET', '/api/v1/me', { token: secret });
    const policyShape = /^"minute"; q=\d+; w=60; pk=:[A-Za-z0-9+/=]+:, "month"; q=\d+; w=\d+$/;
    const remainingShape = /^"minute"; r=\d+; t=\d+, "month"; r=\d+; t=\d+$/;
    expect(response.headers.get('ratelimit-policy')).toMatch(policyShape);
    expect(response.headers.get('ratelimit')).toMatch(remainingShape);
    expect(/RateLimit-Policy: (.*)/.exec(README)?.[1]).toMatch(policyShape);
    expect(/^ *RateLimit: (.*)/m.exec(README)?.[1]).toMatch(remainingShape);
    // the team plan's figures, as in the example
    expect(response.headers.get('ratelimit-policy')).toMatch(/^"minute"; q=120; w=60; .*"month"; q=50000; /);
  });

  it('states the password rule where the first password is chosen', () => {
    const quickStart = README.slice(README.indexOf('## Quick start'), README.indexOf('## Configuration'));
    expect(quickStart).toMatch(/at least 10 characters/);
  });
});
