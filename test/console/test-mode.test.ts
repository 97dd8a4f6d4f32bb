import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, waitFor, type Receiver } from '../../server/src/webhooks/test-receiver.js';
import { callApi, expectAccessible, openFromSidebar, PASSWORD, PHONE, screenshot, signIn, startConsole, type ConsoleHarness } from './harness.js';

let h: ConsoleHarness;
let receiver: Receiver;

beforeAll(async () => {
  h = await startConsole();
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await h?.close();
});

/** The switch: in the sidebar on a desktop, beside the Menu button on a phone (never hidden behind it). */
const modeSwitch = (page: Page) => page.getByRole('switch', { name: 'Test mode' });
const banner = (page: Page) => page.getByRole('status').filter({ hasText: 'Test mode.' });

describe('the console in test mode', () => {
  it('a switch shows the test partition on every page, with a banner, kept across reloads of the tab', async () => {
    const { workspace, email } = await h.createWorkspace('Modes');
    const owner = (await h.running.store.findMany('members', 'workspace_id', workspace.id))[0]!.user_id;
    const live = (await h.running.app.services.keys.create(workspace, { name: 'Live-Key' }, owner)).secret;
    const test = (await h.running.app.services.keys.create(workspace, { name: 'Sandbox-Key', mode: 'test' }, owner)).secret;
    expect((await callApi(h.baseUrl, 'POST', '/api/v1/qr', live, { name: 'Live poster', destination_url: 'https://example.com/live' })).status).toBe(201);
    const testCode = await callApi(h.baseUrl, 'POST', '/api/v1/qr', test, { name: 'Sandbox poster', destination_url: 'https://example.com/sandbox' });
    expect(testCode.status).toBe(201);
    const shortCode = (testCode.body.data as { short_code: string }).short_code;
    expect(shortCode).toMatch(/^test/);
    expect((await fetch(`${h.baseUrl}/r/${shortCode}`, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1' } })).status).toBe(302);

    const { page } = await h.newPage();
    const modes: string[] = [];
    page.on('request', (request) => {
      // the create form's preview is an <img> of /api/v1/generate, which stores nothing and has no mode
      const { pathname } = new URL(request.url());
      if (pathname.startsWith('/api/v1/') && pathname !== '/api/v1/generate') modes.push(request.headers()['qr-mode'] ?? `none (${pathname})`);
    });
    await signIn(page, email);

    // live: the live code only, no banner
    await page.getByRole('link', { name: 'Live poster' }).waitFor();
    expect(await page.getByRole('link', { name: 'Sandbox poster' }).count()).toBe(0);
    expect(await banner(page).count()).toBe(0);
    expect(await modeSwitch(page).isChecked()).toBe(false);

    // switched on: the test code (marked Test), the banner, and the header on every API call from then on
    await modeSwitch(page).check();
    await banner(page).waitFor();
    await page.getByRole('link', { name: 'Sandbox poster' }).waitFor();
    expect(await page.getByRole('link', { name: 'Live poster' }).count()).toBe(0);
    expect(await page.getByRole('row', { name: /Sandbox poster/ }).getByText('Test', { exact: true }).count()).toBe(1);
    modes.length = 0;

    // it stays on across a reload of the tab
    await page.reload();
    await page.getByRole('link', { name: 'Sandbox poster' }).waitFor();
    expect(await modeSwitch(page).isChecked()).toBe(true);
    await banner(page).waitFor();

    // the test code's analytics: its one scan
    await page.getByRole('link', { name: 'Sandbox poster' }).click();
    await page.getByRole('img', { name: /Scans per day: 1 total/ }).waitFor();
    await expectAccessible(page, 'qr detail in test mode');
    await screenshot(page, 'test-mode-qr-detail-desktop');

    // a code created from the console in test mode is a test code
    await openFromSidebar(page, 'QR codes');
    await page.getByRole('button', { name: 'Create QR code' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create QR code' });
    await dialog.getByLabel('Name').fill('Made in test mode');
    await dialog.getByLabel('Destination URL').fill('https://example.com/made-in-test');
    await dialog.getByRole('button', { name: 'Create code' }).click();
    await page.getByRole('heading', { name: 'Made in test mode', level: 1 }).waitFor();
    const listed = async (secret: string) => ((await callApi(h.baseUrl, 'GET', '/api/v1/qr', secret)).body.data as Array<{ name: string }>).map((code) => code.name);
    expect(await listed(test)).toContain('Made in test mode');
    expect(await listed(live)).not.toContain('Made in test mode');

    // webhooks: one added in test mode is a test webhook, which the live key does not see
    await openFromSidebar(page, 'Webhooks');
    await page.getByText('No webhooks yet.').waitFor();
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const add = page.getByRole('dialog', { name: 'Add webhook' });
    await add.getByLabel('Receiver URL').fill(receiver.url('/test-mode'));
    await add.getByLabel(/qr\.created/).check();
    await add.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByRole('dialog', { name: 'Webhook added' }).getByRole('button', { name: 'Done' }).click();
    const hooks = (secret: string) => callApi(h.baseUrl, 'GET', '/api/v1/webhooks', secret).then((r) => (r.body.data as Array<{ url: string; mode?: string }>).map((hook) => hook.url));
    expect(await hooks(test)).toEqual([receiver.url('/test-mode')]);
    expect(await hooks(live)).toEqual([]);
    // a test event reaches it
    expect((await callApi(h.baseUrl, 'POST', '/api/v1/qr', test, { name: 'Second sandbox code', destination_url: 'https://example.com/2' })).status).toBe(201);
    await waitFor(() => receiver.received.some((r) => r.path === '/test-mode'), 'a test-mode delivery');

    // the events feed: test events only
    await openFromSidebar(page, 'Events');
    await page.getByText('Made in test mode was created').waitFor();
    expect(await page.getByText('Live poster was created').count()).toBe(0);

    // API settings: keys are the workspace's, so the list starts filtered to test keys, and a new key is a test key
    await openFromSidebar(page, 'API settings');
    const keyList = page.getByRole('region', { name: 'API key list' });
    await keyList.getByRole('row', { name: /Sandbox-Key/ }).waitFor();
    expect(await keyList.getByRole('row', { name: /Live-Key/ }).count()).toBe(0);
    expect(await page.getByLabel('Key mode').inputValue()).toBe('test');
    await page.getByLabel('Key mode').selectOption('all');
    await keyList.getByRole('row', { name: /Live-Key/ }).waitFor();
    await page.getByRole('button', { name: 'Create API key' }).click();
    const create = page.getByRole('dialog', { name: 'Create API key' });
    expect(await create.getByRole('radio', { name: /Test mode/ }).isChecked()).toBe(true);
    await create.getByLabel('Name').fill('Sandbox-Two');
    await create.getByLabel('Your password').fill(PASSWORD);
    await create.getByRole('button', { name: 'Create key' }).click();
    expect(await page.getByRole('dialog', { name: 'Your new API key' }).getByLabel('Secret').inputValue()).toMatch(/^qr_test_/);
    await page.getByRole('button', { name: 'Done' }).click();
    await expectAccessible(page, 'API settings in test mode');
    await screenshot(page, 'test-mode-api-settings-desktop');

    // every API call made while the switch was on said so
    expect(modes.length).toBeGreaterThan(10);
    expect(new Set(modes)).toEqual(new Set(['test']));

    // back to live from the banner: the live data again, no banner
    await openFromSidebar(page, 'QR codes');
    await page.getByRole('button', { name: 'Back to live data' }).click();
    await page.getByRole('link', { name: 'Live poster' }).waitFor();
    expect(await page.getByRole('link', { name: 'Made in test mode' }).count()).toBe(0);
    expect(await banner(page).count()).toBe(0);
    expect(await modeSwitch(page).isChecked()).toBe(false);
    await page.reload();
    await page.getByRole('link', { name: 'Live poster' }).waitFor();
    expect(await modeSwitch(page).isChecked()).toBe(false);
  });

  it('on a phone the switch is in view without opening the menu, and the banner fits', async () => {
    const { email } = await h.createWorkspace('Phone modes');
    const { page } = await h.newPage(PHONE);
    await signIn(page, email);
    await page.getByRole('heading', { name: 'QR codes', level: 1 }).waitFor();
    await modeSwitch(page).check();
    await banner(page).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await expectAccessible(page, 'QR codes in test mode on a phone');
    await screenshot(page, 'test-mode-qr-list-phone');
    await modeSwitch(page).uncheck();
    await expect.poll(() => banner(page).count()).toBe(0);
    // signing out ends test mode: whoever signs in next on this tab starts on live data
    await modeSwitch(page).check();
    await banner(page).waitFor();
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await signIn(page, email);
    await page.getByRole('heading', { name: 'QR codes', level: 1 }).waitFor();
    expect(await modeSwitch(page).isChecked()).toBe(false);
    expect(await banner(page).count()).toBe(0);
  });
});
