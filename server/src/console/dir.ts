import { fileURLToPath } from 'node:url';

/** Where Vite writes the console: `web/dist` at the root of the repository, found from this file. */
export function defaultConsoleDir(): string {
  return fileURLToPath(new URL('../../../web/dist', import.meta.url));
}
