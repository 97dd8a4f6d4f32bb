import { describe, expect, it } from 'vitest';
import { startLine } from './start-line.js';

describe('the start line', () => {
  it('says where the API, the console and the reference are, and how to begin on an empty store', () => {
    const line = startLine({ baseUrl: 'http://127.0.0.1:8080', emptyStore: true });
    expect(line).not.toContain('\n');
    expect(line).toContain('API http://127.0.0.1:8080/api/v1');
    expect(line).toContain('console http://127.0.0.1:8080/');
    expect(line).toContain('http://127.0.0.1:8080/api-docs');
    expect(line).toContain('npx qrflow init');
    expect(line).toContain('10+ characters');
  });

  it('leaves out how to begin once a workspace exists', () => {
    expect(startLine({ baseUrl: 'https://qr.example.com', emptyStore: false })).not.toContain('qrflow init');
  });

  it('shows a server listening on every address at its loopback address', () => {
    expect(startLine({ baseUrl: 'http://0.0.0.0:8080', emptyStore: false })).toContain('API http://127.0.0.1:8080/api/v1');
    expect(startLine({ baseUrl: 'http://[::]:8080', emptyStore: false })).toContain('API http://[::1]:8080/api/v1');
  });
});
