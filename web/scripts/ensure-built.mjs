// Builds the console (web/) when web/dist/index.html is missing or older than its sources; otherwise does nothing.
// `npm start` calls ensureConsoleBuilt() before it listens, so `npm install && npm start` serves a current console.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const builtIndex = path.join(webDir, 'dist', 'index.html');

/** The newest modification time among the files that make up the console, in ms. */
function newestSource() {
  let newest = 0;
  const visit = (target) => {
    let stat;
    try {
      stat = fs.statSync(target);
    } catch {
      return;
    }
    if (stat.isDirectory()) for (const entry of fs.readdirSync(target)) visit(path.join(target, entry));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const source of ['src', 'index.html', 'vite.config.ts']) visit(path.join(webDir, source));
  return newest;
}

/** Whether web/dist is missing or older than any source file. */
export function consoleBuildIsStale() {
  let built;
  try {
    built = fs.statSync(builtIndex).mtimeMs;
  } catch {
    return true;
  }
  return newestSource() > built;
}

/** Builds web/ with Vite when its build is missing or stale, printing one line to stderr; silent otherwise. */
export async function ensureConsoleBuilt() {
  if (!consoleBuildIsStale()) return;
  const started = performance.now();
  process.stderr.write('Building the console (web/)… ');
  try {
    const { build } = await import('vite');
    await build({ root: webDir, configFile: path.join(webDir, 'vite.config.ts'), logLevel: 'warn' });
  } catch (error) {
    process.stderr.write('failed\n');
    throw error;
  }
  process.stderr.write(`done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await ensureConsoleBuilt();
}
