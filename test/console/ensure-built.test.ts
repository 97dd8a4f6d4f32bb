import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { consoleBuildIsStale, ensureConsoleBuilt } from '../../web/scripts/ensure-built.mjs';
import { CONSOLE_DIR } from './harness.js';

const source = path.join(CONSOLE_DIR, '..', 'src', 'main.tsx');

afterEach(() => vi.restoreAllMocks());

describe('ensureConsoleBuilt (what npm start calls)', () => {
  it('is silent when the build is newer than every source', async () => {
    expect(consoleBuildIsStale()).toBe(false);
    const write = vi.spyOn(process.stderr, 'write');
    await ensureConsoleBuilt();
    expect(write).not.toHaveBeenCalled();
  });

  it('rebuilds, with one line on stderr, when a source is newer than the build', async () => {
    const original = fs.statSync(source);
    const future = new Date(Date.now() + 60_000);
    fs.utimesSync(source, future, future);
    try {
      expect(consoleBuildIsStale()).toBe(true);
      const lines: string[] = [];
      vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
        lines.push(String(chunk));
        return true;
      });
      await ensureConsoleBuilt();
      expect(lines.join('')).toMatch(/^Building the console \(web\/\)… done in \d+\.\d s\n$/);
      expect(fs.existsSync(path.join(CONSOLE_DIR, 'index.html'))).toBe(true);
    } finally {
      fs.utimesSync(source, original.atime, original.mtime);
    }
    // index.html was written after the old mtime: fresh again
    expect(consoleBuildIsStale()).toBe(false);
  });
});
