import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, expectAccessible, openFromSidebar, PASSWORD, signIn, startConsole, type ConsoleHarness } from './harness.js';

let h: ConsoleHarness;

beforeAll(async () => {
  h = await startConsole();
});
afterAll(async () => h?.close());

describe('first run and API keys in the console', () => {
  it('first run → sign in → create a key (secret once) → pause → resume → renew → revoke, each visible on the API', async () => {
    const { page, context } = await h.newPage();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.baseUrl });

    // first run: / leads to the workspace form, with the password rule shown before submitting
    await page.goto('/');
    await page.getByRole('heading', { name: 'Create your workspace' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/setup');
    await expect.poll(() => page.getByText(/at least 10 characters/i).count()).toBeGreaterThan(0);
    await page.getByLabel('Workspace name').fill('Acme Studio');
    await page.getByLabel('Owner email').fill('founder@example.test');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.getByRole('heading', { name: 'QR codes', level: 1 }).waitFor();

    // the form is gone once a workspace exists: signing out leads to sign-in, and /setup does too
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.goto('/setup');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Create your workspace' }).count()).toBe(0);

    // sign in, then API settings from the sidebar
    await signIn(page, 'founder@example.test');
    await openFromSidebar(page, 'API settings');
    await page.getByRole('heading', { name: 'API settings', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/settings/api');

    // create: the secret is shown once, with a copy button and the warning
    await page.getByRole('button', { name: 'Create API key' }).click();
    const create = page.getByRole('dialog', { name: 'Create API key' });
    await expect.poll(() => create.getByText('Zapier-Integration', { exact: false }).count()).toBeGreaterThan(0);
    await create.getByLabel('Name').fill('Zapier-Integration');
    await create.getByLabel('Your password').fill(PASSWORD);
    await create.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByRole('dialog', { name: 'Your new API key' });
    await shown.getByText("You won't be able to see it again").waitFor();
    const secret = await shown.getByLabel('Secret').inputValue();
    expect(secret).toMatch(/^qr_live_[A-Za-z0-9]{32}$/);
    await expectAccessible(page, 'the new key dialog');
    await shown.getByRole('button', { name: 'Copy' }).click();
    await shown.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await shown.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);

    // gone from the page when the dialog closes; a reload shows only the prefix
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    const keyList = page.getByRole('region', { name: 'API key list' });
    const row = keyList.getByRole('row', { name: /Zapier-Integration/ });
    await row.waitFor();
    expect(await row.innerText()).toContain(secret.slice(0, 12));
    expect(await page.content()).not.toContain(secret);
    expect(await row.getByText('Active', { exact: true }).count()).toBe(1);
    expect(await row.innerText()).toContain('founder@example.test');

    // the key works on the API
    expect((await callApi(h.baseUrl, 'GET', '/api/v1/qr', secret)).status).toBe(200);

    // pause: the API answers 401 api_key_paused
    await page.getByRole('button', { name: 'Pause Zapier-Integration' }).click();
    await row.getByText('Paused', { exact: true }).waitFor();
    const paused = await callApi(h.baseUrl, 'GET', '/api/v1/qr', secret);
    expect(paused.status).toBe(401);
    expect((paused.body.error as { code: string }).code).toBe('api_key_paused');

    // the status filter
    await page.getByLabel('Status').selectOption('active');
    await expect.poll(() => keyList.getByRole('row', { name: /Zapier-Integration/ }).count()).toBe(0);
    await page.getByLabel('Status').selectOption('paused');
    await keyList.getByRole('row', { name: /Zapier-Integration/ }).waitFor();
    await page.getByLabel('Status').selectOption('all');

    // resume: works again
    await page.getByRole('button', { name: 'Resume Zapier-Integration' }).click();
    await row.getByText('Active', { exact: true }).waitFor();
    expect((await callApi(h.baseUrl, 'GET', '/api/v1/qr', secret)).status).toBe(200);

    // last used shows as relative time with the exact time on hover
    await page.reload();
    const lastUsed = row.locator('time').nth(1);
    expect(await lastUsed.innerText()).toMatch(/just now|second|minute/);
    expect(await lastUsed.getAttribute('title')).toMatch(/\d{4}/);

    // renew: renewals left today, the new secret once, the old one stops
    await page.getByRole('button', { name: 'Renew Zapier-Integration' }).click();
    const renew = page.getByRole('alertdialog', { name: /Renew “Zapier-Integration”/ });
    await renew.getByText(/Renewals left today/).waitFor();
    expect(await renew.innerText()).toMatch(/5\s+of 5/);
    await expectAccessible(page, 'the renew confirmation');
    await renew.getByRole('button', { name: 'Renew key' }).click();
    const renewed = page.getByRole('dialog', { name: 'New secret for Zapier-Integration' });
    const newSecret = await renewed.getByLabel('Secret').inputValue();
    expect(newSecret).toMatch(/^qr_live_/);
    expect(newSecret).not.toBe(secret);
    await renewed.getByRole('button', { name: 'Done' }).click();
    expect(await page.content()).not.toContain(newSecret);
    expect((await callApi(h.baseUrl, 'GET', '/api/v1/qr', secret)).status).toBe(401);
    expect((await callApi(h.baseUrl, 'GET', '/api/v1/qr', newSecret)).status).toBe(200);

    // review activity: the key's requests
    await page.getByRole('button', { name: 'Review activity of Zapier-Integration' }).click();
    const activity = page.getByRole('dialog', { name: 'Activity of Zapier-Integration' });
    await activity.getByRole('cell', { name: '/api/v1/qr' }).first().waitFor();
    await activity.getByRole('button', { name: 'Close' }).click();

    // revoke behind a confirmation naming the key; it stays listed
    await page.getByRole('button', { name: 'Revoke Zapier-Integration' }).click();
    const revoke = page.getByRole('alertdialog', { name: 'Revoke “Zapier-Integration”?' });
    await revoke.waitFor();
    await expectAccessible(page, 'the revoke confirmation');
    await revoke.getByRole('button', { name: 'Revoke key' }).click();
    await row.getByText('Revoked', { exact: true }).waitFor();
    const revoked = await callApi(h.baseUrl, 'GET', '/api/v1/qr', newSecret);
    expect(revoked.status).toBe(401);
    expect((revoked.body.error as { code: string }).code).toBe('api_key_revoked');
    await page.reload();
    await row.getByText('Revoked', { exact: true }).waitFor();

    // no secret in any log line
    expect(h.logs()).not.toContain(secret);
    expect(h.logs()).not.toContain(newSecret);
  });

  it('the usage meters move after API calls', async () => {
    const { workspace, email } = await h.createWorkspace('Meters');
    const { secret } = await h.running.app.services.keys.create(workspace, { name: 'Meter-Key' }, 'test');
    const { page } = await h.newPage();
    await signIn(page, email);
    await openFromSidebar(page, 'API settings');
    const calls = page.getByRole('progressbar', { name: 'API calls' });
    await calls.waitFor();
    const before = Number(await calls.getAttribute('value'));
    const credits = page.getByRole('progressbar', { name: 'Image generation credits' });
    const creditsBefore = Number(await credits.getAttribute('value'));
    for (let i = 0; i < 3; i++) expect((await callApi(h.baseUrl, 'GET', '/api/v1/qr', secret)).status).toBe(200);
    expect((await fetch(`${h.baseUrl}/api/v1/generate?data=meter-test&format=png&size=128`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(200);
    await page.getByRole('button', { name: 'Refresh usage' }).click();
    await expect.poll(async () => Number(await calls.getAttribute('value'))).toBe(before + 4);
    await expect.poll(async () => Number(await credits.getAttribute('value'))).toBe(creditsBefore + 1);
    const perKey = page.getByRole('region', { name: 'API calls per key' }).getByRole('row', { name: /Meter-Key/ });
    expect(await perKey.innerText()).toContain('4');
    expect(await page.getByText(/Limits reset on/).count()).toBe(1);
    expect(await page.getByText(/requests per minute/).count()).toBe(1);
  });

  it('creates a test-mode key (qr_test_) from the same dialog', async () => {
    const { email } = await h.createWorkspace('Sandbox');
    const { page } = await h.newPage();
    await signIn(page, email);
    await openFromSidebar(page, 'API settings');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const create = page.getByRole('dialog', { name: 'Create API key' });
    await create.getByLabel('Name').fill('Dev-Testing');
    await create.getByRole('radio', { name: /Test mode/ }).check();
    await create.getByLabel('Your password').fill(PASSWORD);
    await create.getByRole('button', { name: 'Create key' }).click();
    const secret = await page.getByRole('dialog', { name: 'Your new API key' }).getByLabel('Secret').inputValue();
    expect(secret).toMatch(/^qr_test_[A-Za-z0-9]{32}$/);
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('region', { name: 'API key list' }).getByRole('row', { name: /Dev-Testing/ }).getByText('Test', { exact: true }).waitFor();
    const me = await callApi(h.baseUrl, 'GET', '/api/v1/me', secret);
    expect((me.body.data as { key: { mode: string } }).key.mode).toBe('test');
  });

  it('flags keys unused for 90 days, and says what to do when the plan has expired', async () => {
    const { workspace, email } = await h.createWorkspace('Lapsed');
    const owner = (await h.running.store.findMany('members', 'workspace_id', workspace.id))[0]!.user_id;
    const old = (await h.running.app.services.keys.create(workspace, { name: 'Old-Cron-Job' }, owner)).key;
    await h.running.app.services.keys.create(workspace, { name: 'Fresh-Key' }, owner);
    // made 120 days ago, last used 91 days ago
    const stored = (await h.running.store.get('keys', old.id))!;
    const day = 24 * 3600 * 1000;
    await h.running.store.commit([{ collection: 'keys', put: { ...stored, created_at: new Date(Date.now() - 120 * day).toISOString(), last_used_at: new Date(Date.now() - 91 * day).toISOString() } }]);
    await h.running.app.services.workspaces.setPlan(workspace, workspace.plan, 'expired');

    const { page } = await h.newPage();
    await signIn(page, email);
    await openFromSidebar(page, 'API settings');
    const keyList = page.getByRole('region', { name: 'API key list' });
    const oldRow = keyList.getByRole('row', { name: /Old-Cron-Job/ });
    await oldRow.getByText('Unused 90+ days: consider revoking').waitFor();
    expect(await oldRow.locator('time').nth(1).innerText()).toMatch(/3 months ago|91 days ago/);
    expect(await keyList.getByRole('row', { name: /Fresh-Key/ }).getByText(/Unused 90\+ days/).count()).toBe(0);

    // the plan: Expired, what it means and the command that reactivates it
    const usage = page.getByRole('region', { name: 'Usage' });
    await usage.getByText('Expired', { exact: true }).waitFor();
    const notice = usage.getByText(/The subscription has expired/);
    expect(await notice.innerText()).toMatch(/subscription_inactive/);
    expect(await notice.innerText()).toContain(`npx qrflow plan set --workspace ${workspace.name} --plan ${workspace.plan} --status active`);
  });
});
