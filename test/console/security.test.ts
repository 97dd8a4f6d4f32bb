import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFromSidebar, PASSWORD, signIn, startConsole, type ConsoleHarness } from './harness.js';

let h: ConsoleHarness;

beforeAll(async () => {
  h = await startConsole();
});
afterAll(async () => h?.close());

/** Markup that would run if any of it were parsed as HTML (no spaces, so it also passes as an email's local part). */
const XSS = '<svg/onload=window.__xss=1><img/src=x/onerror=window.__xss=2>';

describe('the console is safe with hostile text and cross-site requests', () => {
  it('refuses a cookie-authenticated write without the CSRF token (403 csrf_failed), and accepts it with one', async () => {
    const { email } = await h.createWorkspace('Csrf');
    const { page } = await h.newPage();
    await signIn(page, email);
    const without = await page.evaluate(async () => {
      const response = await fetch('/api/v1/qr', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'No token', destination_url: 'https://example.com' }) });
      return { status: response.status, body: (await response.json()) as { error: { code: string } } };
    });
    expect(without.status).toBe(403);
    expect(without.body.error.code).toBe('csrf_failed');
    const wrong = await page.evaluate(async () => {
      const response = await fetch('/api/v1/qr', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-csrf-token': 'forged' }, body: JSON.stringify({ name: 'Forged', destination_url: 'https://example.com' }) });
      return response.status;
    });
    expect(wrong).toBe(403);
    const withToken = await page.evaluate(async () => {
      const { data } = (await (await fetch('/api/v1/auth/csrf', { credentials: 'same-origin' })).json()) as { data: { csrf_token: string } };
      const response = await fetch('/api/v1/qr', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-csrf-token': data.csrf_token }, body: JSON.stringify({ name: 'With token', destination_url: 'https://example.com' }) });
      return response.status;
    });
    expect(withToken).toBe(201);
    // and the session cookie is HttpOnly and SameSite=Strict: the page cannot read it
    expect(await page.evaluate(() => document.cookie)).not.toContain('qrflow_session');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'qrflow_session');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
    expect(await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage))).not.toMatch(/qrs_/);
  });

  it('shows HTML in a QR name, a tag, a key name and a member email as text', async () => {
    const { workspace, email } = await h.createWorkspace('Xss');
    await h.addMember(workspace, `${XSS}@example.test`, 'member');
    const { page } = await h.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await signIn(page, email);

    // a QR name and a tag, through the create dialog
    await page.getByRole('button', { name: 'Create QR code' }).click();
    const create = page.getByRole('dialog', { name: 'Create QR code' });
    await create.getByLabel('Name').fill(XSS);
    await create.getByLabel('Destination URL').fill('https://example.com/xss');
    await create.getByLabel('Tags').fill(XSS.slice(0, 40));
    await create.getByRole('button', { name: 'Create code' }).click();
    await page.getByRole('heading', { name: XSS, level: 1 }).waitFor();
    await page.getByText(XSS.slice(0, 40), { exact: true }).waitFor();
    await openFromSidebar(page, 'QR codes');
    await page.getByRole('link', { name: XSS }).waitFor();

    // a key name
    await openFromSidebar(page, 'API settings');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const key = page.getByRole('dialog', { name: 'Create API key' });
    await key.getByLabel('Name').fill(XSS);
    await key.getByLabel('Your password').fill(PASSWORD);
    await key.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('dialog', { name: 'Your new API key' }).getByRole('button', { name: 'Done' }).click();
    await page.getByRole('rowheader', { name: XSS }).first().waitFor();

    // a member email
    await openFromSidebar(page, 'Members');
    await page.getByRole('rowheader', { name: `${XSS}@example.test`.toLowerCase() }).waitFor();

    // events feed with the code's name
    await openFromSidebar(page, 'Events');
    await page.getByText(`${XSS} was created`).waitFor();

    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.evaluate(() => document.querySelectorAll('svg[onload], img[onerror]').length)).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('serves the console under a CSP without inline scripts, never framed', async () => {
    const response = await fetch(`${h.baseUrl}/settings/api`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    // and the page runs under it: no CSP violation reported while it loads
    const { page } = await h.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto('/login');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(violations).toEqual([]);
  });
});
