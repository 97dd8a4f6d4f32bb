import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USER_AGENTS } from '../helpers/qr.js';
import { startReceiver, waitFor, type Receiver } from '../../server/src/webhooks/test-receiver.js';
import { DESKTOP, expectAccessible, openFromSidebar, PASSWORD, PHONE, screenshot, signIn, startConsole, type ConsoleHarness } from './harness.js';

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

/** Nothing wider than the viewport (no sideways scrolling of the page itself on a phone). */
async function expectNoHorizontalScroll(page: Page, where: string): Promise<void> {
  const widths = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    // the outermost elements sticking out, to say what is too wide
    wide: [...document.querySelectorAll('body *')]
      .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1 && !element.closest('.table-wrap') && !element.closest('.visually-hidden'))
      .slice(0, 3)
      .map((element) => `${element.tagName.toLowerCase()}.${element.className}`),
  }));
  expect(widths.page, `${where} is ${widths.page}px wide in a ${widths.viewport}px viewport: ${widths.wide.join(', ')}`).toBeLessThanOrEqual(widths.viewport);
}

async function check(page: Page, name: string, phone: boolean): Promise<void> {
  await page.waitForLoadState('networkidle');
  await expectAccessible(page, name);
  await expectNoHorizontalScroll(page, `${name} (${phone ? 'phone' : 'desktop'})`);
  await screenshot(page, `${name}-${phone ? 'phone' : 'desktop'}`);
}

describe('every console page, at desktop width and on a 375 px phone', () => {
  it('first run and sign-in pages have no serious accessibility problem', async () => {
    for (const [viewport, phone] of [[DESKTOP, false], [PHONE, true]] as const) {
      const { page } = await h.newPage(viewport);
      await page.goto('/');
      await page.getByRole('heading', { name: 'Create your workspace' }).waitFor();
      await check(page, 'setup', phone);
    }
    const { page } = await h.newPage();
    await page.goto('/setup');
    await page.getByLabel('Workspace name').fill('Northwind Coffee');
    await page.getByLabel('Owner email').fill('owner@northwind.example');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.getByRole('heading', { name: 'QR codes', level: 1 }).waitFor();
    for (const [viewport, phone] of [[DESKTOP, false], [PHONE, true]] as const) {
      const signedOut = await h.newPage(viewport);
      await signedOut.page.goto('/settings/api');
      await signedOut.page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await check(signedOut.page, 'login', phone);
    }
  });

  it('the signed-in pages and dialogs have no serious accessibility problem and fit a phone', async () => {
    const workspace = (await h.running.store.all('workspaces'))[0]!;
    const secret = await h.apiKey(workspace, 'Production-WebApp');
    await h.apiKey(workspace, 'Zapier-Integration');
    const codes = [];
    for (const [name, tags] of [['Spring menu flyer', ['menu', 'print']], ['Table tent — terrace', ['tables']], ['Loyalty card', ['loyalty', 'print']]] as const) {
      codes.push(await h.createQr(workspace, { name, destination_url: `https://northwind.example/${encodeURIComponent(name)}`, tags }));
    }
    for (const ua of [USER_AGENTS.iphone, USER_AGENTS.android, USER_AGENTS.iphone, USER_AGENTS.windowsChrome, USER_AGENTS.macFirefox]) {
      await fetch(`${h.baseUrl}/r/${codes[0]!.short_code}`, { redirect: 'manual', headers: { 'user-agent': ua } });
    }
    for (let i = 0; i < 5; i++) await fetch(`${h.baseUrl}/api/v1/qr`, { headers: { authorization: `Bearer ${secret}` } });
    await h.addMember(workspace, 'barista@northwind.example', 'member');
    const hook = await fetch(`${h.baseUrl}/api/v1/webhooks`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: receiver.url('/northwind'), events: ['qr.created', 'qr.scanned'] }) });
    expect(hook.status).toBe(201);
    await h.createQr(workspace, { name: 'Window sticker', destination_url: 'https://northwind.example/window' });
    await waitFor(() => receiver.delivered().length >= 1, 'a delivery');

    const cspViolations: string[] = [];
    for (const [viewport, phone] of [[DESKTOP, false], [PHONE, true]] as const) {
      const { page } = await h.newPage(viewport);
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
      });
      await signIn(page, 'owner@northwind.example');
      await page.getByRole('link', { name: 'Spring menu flyer' }).waitFor();
      await check(page, 'qr-list', phone);

      await page.getByRole('button', { name: 'Create QR code' }).click();
      await page.getByRole('dialog', { name: 'Create QR code' }).getByLabel('Destination URL').fill('https://northwind.example/new');
      await page.getByRole('dialog', { name: 'Create QR code' }).getByRole('img').waitFor();
      await check(page, 'qr-create', phone);
      await page.keyboard.press('Escape');
      await expect.poll(() => page.getByRole('dialog').count()).toBe(0);

      await page.getByRole('link', { name: 'Spring menu flyer' }).click();
      await page.getByRole('img', { name: /Scans per day/ }).waitFor();
      await check(page, 'qr-detail', phone);

      await openFromSidebar(page, 'API settings');
      await page.getByRole('region', { name: 'API key list' }).getByRole('row', { name: /Production-WebApp/ }).waitFor();
      await check(page, 'api-settings', phone);
      // the key list fits its card (every column and action button in view) without scrolling sideways
      const keyList = await page.getByRole('region', { name: 'API key list' }).evaluate((region) => ({ scroll: region.scrollWidth, client: region.clientWidth }));
      expect(keyList.scroll, `the API key list is ${keyList.scroll}px wide in a ${keyList.client}px card`).toBeLessThanOrEqual(keyList.client);
      await page.getByRole('button', { name: 'Create API key' }).click();
      await page.getByRole('dialog', { name: 'Create API key' }).getByLabel('Name').waitFor();
      await check(page, 'api-key-create', phone);
      await page.getByRole('button', { name: 'Close' }).click();
      await page.getByRole('button', { name: 'Review activity of Production-WebApp' }).click();
      await page.getByRole('dialog', { name: 'Activity of Production-WebApp' }).getByRole('table').waitFor();
      await check(page, 'api-key-activity', phone);
      await page.getByRole('button', { name: 'Close' }).click();

      await openFromSidebar(page, 'Members');
      await page.getByRole('row', { name: /barista@northwind\.example/ }).waitFor();
      await check(page, 'members', phone);

      await openFromSidebar(page, 'Webhooks');
      await page.getByRole('region', { name: /Deliveries to/ }).waitFor();
      await check(page, 'webhooks', phone);

      await openFromSidebar(page, 'Events');
      await page.getByText('Window sticker was created').waitFor();
      await check(page, 'events', phone);

      await page.goto('/no-such-page');
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      await check(page, 'not-found', phone);
    }

    // a member's read-only view
    const member = await h.newPage();
    await signIn(member.page, 'barista@northwind.example');
    await openFromSidebar(member.page, 'API settings');
    await member.page.getByRole('heading', { name: 'API keys: read-only for members' }).waitFor();
    await check(member.page, 'api-settings-member', false);
    expect(cspViolations).toEqual([]);
  });

  it('dialogs keep the keyboard inside (Tab and Shift+Tab) and close with Escape, focus back on the opener', async () => {
    const { page } = await h.newPage();
    await signIn(page, 'owner@northwind.example');
    for (const [where, opener, name] of [
      ['API settings', 'Create API key', 'Create API key'],
      ['QR codes', 'Create QR code', 'Create QR code'],
      ['Members', 'Add member', 'Add member'],
      ['Webhooks', 'Add webhook', 'Add webhook'],
    ] as const) {
      await openFromSidebar(page, where);
      await page.getByRole('heading', { name: where, level: 1 }).waitFor();
      await page.waitForLoadState('networkidle');
      await page.getByRole('button', { name: opener }).click();
      await page.getByRole('dialog', { name }).waitFor();
      for (const key of ['Tab', 'Shift+Tab']) {
        for (let i = 0; i < 20; i++) {
          await page.keyboard.press(key);
          const inside = await page.evaluate(() => document.activeElement?.closest('dialog') !== null || document.activeElement === document.body);
          expect(inside, `${name}: ${key} ${i + 1} left the dialog`).toBe(true);
        }
      }
      await page.keyboard.press('Escape');
      await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe(opener);
    }
  });
});
