/**
 * Writes the OpenAPI document the server serves at /openapi.json to a file, without listening: for the linters
 * (npm run lint:openapi) and the typed client's generator (npm run generate:client). Usage: export.ts [out.json]
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { openStore } from '../store/open-store.js';

export const DEFAULT_EXPORT_PATH = 'build/openapi.json';
/** The public URL written into `servers`: a production deployment's shape (HTTPS), not this machine's. */
export const EXPORT_PUBLIC_URL = 'https://qrflow.example.com';

/** The served document, built from an app on a throwaway embedded store. */
export async function exportOpenApi(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'qrflow-openapi-'));
  try {
    const config = loadConfig({ QRFLOW_DATA_FILE: path.join(dir, 'qrflow.json'), QRFLOW_PUBLIC_URL: EXPORT_PUBLIC_URL, QRFLOW_LOG_LEVEL: 'silent' });
    const store = await openStore(config);
    const app = await createApp({ config, store, logger: pino({ level: 'silent' }) });
    try {
      return app.openapi();
    } finally {
      await app.stop();
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = path.resolve(process.argv[2] ?? DEFAULT_EXPORT_PATH);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(await exportOpenApi(), null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}
