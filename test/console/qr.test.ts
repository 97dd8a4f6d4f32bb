import fs from 'node:fs';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USER_AGENTS } from '../helpers/qr.js';
import { openFromSidebar, screenshot, signIn, startConsole, type ConsoleHarness } from './harness.js';

let h: ConsoleHarness;

beforeAll(async () => {
  h = await startConsole();
});
afterAll(async () => h?.close());

/** Reads the QR code in a PNG file. */
function decodePng(file: string): string | null {
  const png = PNG.sync.read(fs.readFileSync(file));
  return jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height)?.data ?? null;
}

describe('QR codes and analytics in the console', () => {
  it('creates a code with a live preview, edits it, pauses it and downloads a PNG that decodes to its short link', async () => {
    const { workspace, email } = await h.createWorkspace('Codes');
    const { page } = await h.newPage();
    await signIn(page, email);
    await openFromSidebar(page, 'QR codes');

    await page.getByRole('button', { name: 'Create QR code' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create QR code' });
    // every type has its own fields
    await dialog.getByLabel('Type').selectOption('wifi');
    await dialog.getByLabel('Network name (SSID)').waitFor();
    await dialog.getByLabel('Type').selectOption('vcard');
    await dialog.getByLabel('First name').waitFor();
    await dialog.getByLabel('Type').selectOption('url');
    await dialog.getByLabel('Name').fill('Spring flyer');
    await dialog.getByLabel('Destination URL').fill('https://example.com/spring');
    const preview = dialog.getByRole('img', { name: /Preview of the QR code/ });
    await preview.waitFor();
    await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
    await dialog.getByRole('button', { name: 'Create code' }).click();
    await page.getByRole('heading', { name: 'Spring flyer', level: 1 }).waitFor();
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const code = await h.running.app.services.qr.find(workspace, id);
    expect(code.destination_url).toBe('https://example.com/spring');

    // edit name, destination, tags and style
    await page.getByRole('button', { name: 'Edit' }).click();
    const editor = page.getByRole('region', { name: 'Edit' });
    await editor.getByLabel('Name').fill('Spring flyer v2');
    await editor.getByLabel('Destination URL').fill('https://example.com/spring-2');
    await editor.getByLabel('Tags').fill('spring, flyer');
    await editor.getByLabel('Error correction').selectOption('H');
    await editor.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'Spring flyer v2', level: 1 }).waitFor();
    await page.getByText('https://example.com/spring-2').waitFor();
    expect(await page.getByRole('listitem').filter({ hasText: /^flyer$/ }).count()).toBe(1);

    // pause and resume
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByText('Paused', { exact: true }).first().waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('button', { name: 'Pause' }).waitFor();

    // download a PNG at a chosen size; it decodes to the short link
    const shortUrl = (await page.getByText(/\/r\//).first().innerText()).trim().split(/\s/)[0]!;
    expect(shortUrl).toMatch(new RegExp(`^${h.baseUrl}/r/`));
    await page.getByLabel('Format').selectOption('png');
    await page.getByLabel('Size (pixels)').selectOption('1024');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PNG' }).click()]);
    const file = await download.path();
    expect(download.suggestedFilename()).toMatch(/1024\.png$/);
    const png = PNG.sync.read(fs.readFileSync(file));
    expect(png.width).toBe(1024);
    expect(decodePng(file)).toBe(shortUrl);

    // the list: search, tag and status filters
    await openFromSidebar(page, 'QR codes');
    await page.getByRole('link', { name: 'Spring flyer v2' }).waitFor();
    await page.getByLabel('Tag').fill('nothing-here');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No codes match these filters.').waitFor();
    await page.getByLabel('Tag').fill('flyer');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('link', { name: 'Spring flyer v2' }).waitFor();
    await page.getByLabel('Tag').fill('');
    await page.getByLabel('Search').fill('no such words');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No codes match these filters.').waitFor();
    await page.getByLabel('Search').fill('spring');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('link', { name: 'Spring flyer v2' }).waitFor();
    await page.getByLabel('Status').selectOption('paused');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No codes match these filters.').waitFor();
    await page.getByLabel('Status').selectOption('active');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('link', { name: 'Spring flyer v2' }).waitFor();

    // delete behind a confirmation
    await page.getByRole('link', { name: 'Spring flyer v2' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('alertdialog', { name: 'Delete “Spring flyer v2”?' }).getByRole('button', { name: 'Delete code' }).click();
    await page.getByRole('heading', { name: 'QR codes', level: 1 }).waitFor();
    await page.getByText('No QR codes yet').waitFor();
  });

  it('previews in the chosen colours, margin and error correction without using an image credit; downloads an SVG', async () => {
    const { workspace, email } = await h.createWorkspace('Styles');
    const { page } = await h.newPage();
    await signIn(page, email);
    await page.getByRole('button', { name: 'Create QR code' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create QR code' });
    const usage = () => page.evaluate(async () => ((await (await fetch('/api/v1/usage')).json()) as { data: { image_credits: { used: number } } }).data.image_credits.used);
    await dialog.getByLabel('Name').fill('Styled flyer');
    await dialog.getByLabel('Destination URL').fill('https://example.com/styled');
    const preview = dialog.getByRole('img', { name: /Preview of the QR code/ });
    await preview.waitFor();
    const before = await usage();
    await dialog.getByLabel('Foreground').fill('#7c2d12');
    await dialog.getByLabel('Background').fill('#fef3c7');
    await dialog.getByLabel('Margin (modules)').fill('1');
    await dialog.getByLabel('Error correction').selectOption('H');
    await expect.poll(async () => new URL((await preview.getAttribute('src'))!, h.baseUrl).searchParams.get('error_correction')).toBe('H');
    const src = new URL((await preview.getAttribute('src'))!, h.baseUrl);
    expect(Object.fromEntries(src.searchParams)).toMatchObject({ foreground: '#7c2d12', background: '#fef3c7', margin: '1', error_correction: 'H', format: 'svg' });
    // what the browser shows: the watermarked preview in those colours
    const shown = await fetch(src);
    expect(shown.headers.get('qr-preview')).toBe('missing_key');
    const svg = await shown.text();
    expect(svg).toContain('#7c2d12');
    expect(svg).toContain('#fef3c7');
    expect(svg).toContain('PREVIEW');
    await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
    await screenshot(page, 'qr-create-styled-desktop');
    expect(await usage()).toBe(before);
    await dialog.getByRole('button', { name: 'Create code' }).click();
    await page.getByRole('heading', { name: 'Styled flyer', level: 1 }).waitFor();
    await page.getByRole('img', { name: 'QR code of Styled flyer' }).waitFor();
    const afterSave = await usage();
    const id = new URL(page.url()).pathname.split('/').pop()!;
    expect((await h.running.app.services.qr.find(workspace, id)).style).toEqual({ foreground: '#7c2d12', background: '#fef3c7', margin: 1, error_correction: 'H', module_shape: 'square', finder_shape: 'square', frame: null });

    // the edit form previews the code's own short link in the new style
    await page.getByRole('button', { name: 'Edit' }).click();
    const editor = page.getByRole('region', { name: 'Edit' });
    await editor.getByLabel('Foreground').fill('#14532d');
    const editPreview = editor.getByRole('img', { name: /Preview of the QR code/ });
    await expect.poll(async () => new URL((await editPreview.getAttribute('src')) ?? '/', h.baseUrl).searchParams.get('foreground')).toBe('#14532d');
    const code = await h.running.app.services.qr.find(workspace, id);
    expect(new URL((await editPreview.getAttribute('src'))!, h.baseUrl).searchParams.get('data')).toBe(`${h.baseUrl}/r/${code.short_code}`);
    await expect.poll(() => editPreview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
    await screenshot(page, 'qr-edit-desktop');
    await editor.getByRole('button', { name: 'Cancel' }).click();
    // previews used no image credit
    expect(await usage()).toBe(afterSave);

    // SVG at a chosen size: the saved colours, no watermark
    await page.getByLabel('Format').selectOption('svg');
    await page.getByLabel('Size (pixels)').selectOption('2048');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download SVG' }).click()]);
    expect(download.suggestedFilename()).toBe('Styled-flyer-2048.svg');
    const file = fs.readFileSync(await download.path(), 'utf8');
    expect(file).toMatch(/<svg[^>]* width="2048" height="2048"/);
    expect(file).toContain('#7c2d12');
    expect(file).not.toContain('PREVIEW');
  });

  it('pages through codes with the cursor', async () => {
    const { workspace, email } = await h.createWorkspace('Paging');
    for (let i = 0; i < 23; i++) await h.createQr(workspace, { name: `Code ${String(i).padStart(2, '0')}`, destination_url: `https://example.com/${i}` });
    const { page } = await h.newPage();
    await signIn(page, email);
    const rows = page.getByRole('region', { name: 'QR codes' }).getByRole('row');
    await expect.poll(() => rows.count()).toBe(21);
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => rows.count()).toBe(4);
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(() => rows.count()).toBe(21);
  });

  it('draws the analytics charts after real scans', async () => {
    const { workspace, email } = await h.createWorkspace('Scans');
    const code = await h.createQr(workspace, { name: 'Menu', destination_url: 'https://example.com/menu' });
    for (const [ua, country] of [[USER_AGENTS.iphone, 'DE'], [USER_AGENTS.android, 'DE'], [USER_AGENTS.windowsChrome, 'JP']] as const) {
      const response = await fetch(`${h.baseUrl}/r/${code.short_code}`, { redirect: 'manual', headers: { 'user-agent': ua, referer: 'https://news.example.org/post', 'cf-ipcountry': country } });
      expect(response.status).toBe(302);
    }
    await fetch(`${h.baseUrl}/r/${code.short_code}`, { redirect: 'manual', headers: { 'user-agent': USER_AGENTS.googlebot } });
    const { page } = await h.newPage();
    await signIn(page, email);
    await page.getByRole('link', { name: 'Menu' }).click();
    const timeline = page.getByRole('img', { name: /Scans per day: 3 total/ });
    await timeline.waitFor();
    for (const chart of ['Countries', 'Devices', 'Operating systems', 'Browsers', 'Referrers']) await page.getByRole('img', { name: new RegExp(`^${chart}: `) }).waitFor();
    // Chart.js drew on the canvases: they hold non-transparent pixels
    const painted = await page.evaluate(() =>
      [...document.querySelectorAll('canvas')].map((canvas) => {
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
        let count = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) count++;
        return count;
      }),
    );
    expect(painted.length).toBeGreaterThanOrEqual(6);
    expect(await page.getByRole('img', { name: /^Countries: / }).getAttribute('aria-label')).toMatch(/DE.*2/);
    for (const pixels of painted) expect(pixels).toBeGreaterThan(100);
    // the controls: by week, in another time zone, with bots
    await page.getByLabel('Group by').selectOption('week');
    await page.getByRole('img', { name: /Scans per week: 3 total/ }).waitFor();
    await page.getByLabel('Time zone').selectOption('Asia/Tokyo');
    await page.getByLabel('Include bots and link previews').check();
    await page.getByRole('img', { name: /Scans per week: 4 total/ }).waitFor();
  });
});
