import { gzipSync } from 'node:zlib';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin, type ResolvedConfig } from 'vite';

/** First-page JavaScript budget, gzipped (issue 13 §8). */
export const FIRST_PAGE_BUDGET_BYTES = 200 * 1024;

/**
 * Reports the gzipped size of the JavaScript the first page loads (the entry chunk and the chunks it imports
 * statically) and fails the build above the budget. Lazy chunks (a code's page with Chart.js) are listed apart.
 */
function firstPageBudget(): Plugin {
  let logger: ResolvedConfig['logger'] | undefined;
  return {
    name: 'qrflow-first-page-budget',
    apply: 'build',
    configResolved(config) {
      logger = config.logger;
    },
    generateBundle(_options, bundle) {
      const chunks = Object.values(bundle).filter((item) => item.type === 'chunk');
      const entry = chunks.find((chunk) => chunk.isEntry);
      if (!entry) return;
      const byName = new Map(chunks.map((chunk) => [chunk.fileName, chunk]));
      const firstPage = new Set<string>();
      const visit = (fileName: string) => {
        if (firstPage.has(fileName)) return;
        firstPage.add(fileName);
        for (const imported of byName.get(fileName)?.imports ?? []) visit(imported);
      };
      visit(entry.fileName);
      const gzipped = (fileName: string) => gzipSync(byName.get(fileName)!.code, { level: 9 }).length;
      const total = [...firstPage].reduce((sum, fileName) => sum + gzipped(fileName), 0);
      const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
      const lazy = chunks.filter((chunk) => !firstPage.has(chunk.fileName)).map((chunk) => `${chunk.fileName} ${kb(gzipped(chunk.fileName))}`);
      const line = `First-page JavaScript: ${kb(total)} gzipped (budget ${kb(FIRST_PAGE_BUDGET_BYTES)}; ${firstPage.size} chunk${firstPage.size === 1 ? '' : 's'})`;
      // through Vite's logger, so a quiet build (ensure-built.mjs) stays quiet
      logger?.info(`\n${line}${lazy.length ? `\nLoaded later: ${lazy.join(', ')}` : ''}`);
      if (total > FIRST_PAGE_BUDGET_BYTES) this.error(`${line}: over budget.`);
    },
  };
}

export default defineConfig({
  plugins: [preact(), firstPageBudget()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // every asset a file: the CSP allows data: images, but nothing else inlined keeps the page predictable
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    // `npm run dev -w web` against a server on :8080 (npm start)
    proxy: { '/api': 'http://127.0.0.1:8080', '/r': 'http://127.0.0.1:8080', '/api-docs': 'http://127.0.0.1:8080' },
  },
});
