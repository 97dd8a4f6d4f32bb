#!/usr/bin/env node
// The qrflow admin CLI: the compiled build (`npm run build`) when it is there and no source file is newer,
// otherwise the TypeScript source through tsx.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);

/** The newest modification time of any file under `directory`. */
function newest(directory) {
  let latest = 0;
  for (const entry of fs.readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, fs.statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs);
  }
  return latest;
}

function compiledIsCurrent() {
  try {
    return fs.statSync(compiled).mtimeMs >= newest(fileURLToPath(new URL('../src', import.meta.url)));
  } catch {
    // no build, or no source beside it (an installed build): use whichever exists
    return fs.existsSync(compiled);
  }
}

if (compiledIsCurrent()) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
