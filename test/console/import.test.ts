import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, openFromSidebar, PHONE, screenshot, signIn, startConsole, type ConsoleHarness } from './harness.js';

let h: ConsoleHarness;
let dir: string;

beforeAll(async () => {
  h = await startConsole();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-import-'));
});
afterAll(async () => {
  await h?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function csvFile(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('importing codes from a CSV file', () => {
  it('maps columns, shows each bad row\'s error before creating anything, creates the good rows and offers their short links as CSV', async () => {
    const { workspace, email } = await h.createWorkspace('Importers');
    const { page } = await h.newPage();
    await signIn(page, email);
    await openFromSidebar(page, 'QR codes');
    await page.getByRole('link', { name: 'Import from CSV' }).click();
    await page.getByRole('heading', { name: 'Import QR codes from CSV', level: 1 }).waitFor();

    // headers in another order and wording than the API's field names; line 3 has no URL, line 4 a forbidden scheme
    const file = csvFile(
      'tables.csv',
      'Title,Link,Labels\n"Table 1, terrace",https://cafe.example/menu?t=1,spring;terrace\nTable 2,,spring\nTable 3,javascript:alert(1),\nTable 4,https://cafe.example/menu?t=4,\n',
    );
    await page.getByLabel('CSV file').setInputFiles(file);
    const mapping = page.getByRole('form', { name: 'Column mapping' });
    await mapping.getByText('4 rows in tables.csv').waitFor();
    // guessed: Title → name, Link → destination; Labels is not guessed, so map it by hand
    expect(await mapping.getByLabel('Name (required)').inputValue()).toBe('Title');
    expect(await mapping.getByLabel('Destination URL (required)').inputValue()).toBe('Link');
    await mapping.getByLabel('Tags').selectOption('Labels');
    await expectAccessible(page, 'import mapping');
    await mapping.getByRole('button', { name: 'Check rows' }).click();

    const checkResults = page.getByRole('region', { name: 'Check results' });
    await checkResults.getByText('2 rows ready, 2 with errors (they will be skipped).').waitFor();
    const rows = checkResults.getByRole('region', { name: 'Rows' });
    await rows.getByRole('row', { name: /Table 2/ }).getByText(/destination_url/).waitFor();
    await rows.getByRole('row', { name: /Table 3/ }).getByText(/javascript: scheme/).waitFor();
    // nothing is created by the check
    expect(await h.running.store.countByWorkspace('qrcodes', workspace.id)).toBe(0);
    await expectAccessible(page, 'import check');

    await checkResults.getByRole('button', { name: 'Create 2 codes' }).click();
    const results = page.getByRole('region', { name: 'Import results' });
    await results.getByText('2 codes created, 2 rows not imported.').waitFor();
    const codes = (await h.running.store.listPage('qrcodes', workspace.id, { limit: 10 })).items;
    expect(codes.map((c) => c.name).sort()).toEqual(['Table 1, terrace', 'Table 4']);
    expect(codes.find((c) => c.name === 'Table 1, terrace')?.tags).toEqual(['spring', 'terrace']);
    await screenshot(page, 'import-results-desktop');

    const [download] = await Promise.all([page.waitForEvent('download'), results.getByRole('button', { name: 'Download created codes (CSV)' }).click()]);
    expect(download.suggestedFilename()).toBe('tables-created.csv');
    const parsed = Papa.parse<Record<string, string>>(fs.readFileSync(await download.path(), 'utf8'), { header: true, skipEmptyLines: true });
    expect(parsed.data.map((r) => [r.row, r.name])).toEqual([['2', 'Table 1, terrace'], ['5', 'Table 4']]);
    for (const line of parsed.data) {
      expect(line.short_url).toMatch(new RegExp(`^${h.baseUrl}/r/[0-9A-Za-z]{7}$`));
      const scan = await fetch(line.short_url!, { redirect: 'manual' });
      expect(scan.status).toBe(302);
      expect(scan.headers.get('location')).toBe(line.destination_url);
    }
  });

  it('says what is wrong with a file that cannot be imported, and fits a phone', async () => {
    const { email } = await h.createWorkspace('Empty importers');
    const { page } = await h.newPage(PHONE);
    await signIn(page, email);
    await page.goto('/qr/import');
    await page.getByLabel('CSV file').setInputFiles(csvFile('empty.csv', 'name,destination_url\n'));
    await page.getByRole('alert').getByText(/has no rows under a header line/).waitFor();
    await expectAccessible(page, 'import error (phone)');
  });
});
