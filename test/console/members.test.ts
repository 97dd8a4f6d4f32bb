import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, openFromSidebar, signIn, startConsole, type ConsoleHarness } from './harness.js';

let h: ConsoleHarness;

beforeAll(async () => {
  h = await startConsole();
});
afterAll(async () => h?.close());

describe('members in the console', () => {
  it('an owner adds a member (temporary password once), the member sees read-only admin pages, the owner removes them', async () => {
    const { email: owner } = await h.createWorkspace('Team');
    const { page } = await h.newPage();
    await signIn(page, owner);
    await openFromSidebar(page, 'Members');
    await page.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
    await page.getByRole('row', { name: new RegExp(owner) }).waitFor();

    await page.getByRole('button', { name: 'Add member' }).click();
    const add = page.getByRole('dialog', { name: 'Add member' });
    await add.getByLabel('Email').fill('designer@example.test');
    await add.getByLabel('Role').selectOption('member');
    await expectAccessible(page, 'the add-member dialog');
    await add.getByRole('button', { name: 'Add member' }).click();
    const added = page.getByRole('dialog', { name: 'Member added' });
    await added.getByText("You won't be able to see it again").waitFor();
    const temporaryPassword = await added.getByLabel('Temporary password').inputValue();
    expect(temporaryPassword.length).toBeGreaterThanOrEqual(10);
    await expectAccessible(page, 'the temporary password dialog');
    await added.getByRole('button', { name: 'Done' }).click();
    expect(await page.content()).not.toContain(temporaryPassword);
    const row = page.getByRole('row', { name: /designer@example\.test/ });
    await row.waitFor();
    expect(await row.getByLabel('Role of designer@example.test').inputValue()).toBe('member');

    // the member signs in: API settings and Members are read-only for them
    const member = await h.newPage();
    await signIn(member.page, 'designer@example.test', temporaryPassword);
    await openFromSidebar(member.page, 'API settings');
    await member.page.getByRole('heading', { name: 'API keys: read-only for members' }).waitFor();
    expect(await member.page.getByRole('button', { name: 'Create API key' }).count()).toBe(0);
    await member.page.getByRole('progressbar', { name: 'API calls' }).waitFor();
    await openFromSidebar(member.page, 'Members');
    await member.page.getByRole('heading', { name: 'Members: read-only for members' }).waitFor();
    expect(await member.page.getByRole('button', { name: 'Add member' }).count()).toBe(0);
    // QR codes stay usable for members
    await openFromSidebar(member.page, 'QR codes');
    await member.page.getByRole('button', { name: 'Create QR code' }).waitFor();

    // promote to admin, then the last owner cannot be demoted
    await row.getByLabel('Role of designer@example.test').selectOption('admin');
    await expect.poll(async () => (await h.running.store.all('members')).find((m) => m.role === 'admin') !== undefined).toBe(true);
    await page.getByRole('row', { name: new RegExp(owner) }).getByLabel(`Role of ${owner}`).selectOption('member');
    await page.getByRole('alert').filter({ hasText: /owner/i }).first().waitFor();

    // remove behind a confirmation
    await page.getByRole('button', { name: 'Remove designer@example.test' }).click();
    await page.getByRole('alertdialog', { name: 'Remove designer@example.test?' }).waitFor();
    await expectAccessible(page, 'the remove-member confirmation');
    await page.getByRole('alertdialog', { name: 'Remove designer@example.test?' }).getByRole('button', { name: 'Remove member' }).click();
    await expect.poll(() => page.getByRole('row', { name: /designer@example\.test/ }).count()).toBe(0);
    await page.reload();
    await page.getByRole('row', { name: new RegExp(owner) }).waitFor();
    expect(await page.getByRole('row', { name: /designer@example\.test/ }).count()).toBe(0);
    // the temporary password is in no log line
    expect(h.logs()).not.toContain(temporaryPassword);
  });
});
