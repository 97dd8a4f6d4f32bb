import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, waitFor, type Receiver } from '../../server/src/webhooks/test-receiver.js';
import { expectAccessible, openFromSidebar, signIn, startConsole, type ConsoleHarness } from './harness.js';

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

describe('webhooks and the events feed in the console', () => {
  it('adds a webhook (signing secret once), shows a delivery in its log, lists the event, deletes the webhook', async () => {
    const { workspace, email } = await h.createWorkspace('Hooks');
    const { page } = await h.newPage();
    await signIn(page, email);
    await openFromSidebar(page, 'Webhooks');
    await page.getByText('No webhooks yet.').waitFor();

    await page.getByRole('button', { name: 'Add webhook' }).click();
    const add = page.getByRole('dialog', { name: 'Add webhook' });
    await add.getByLabel('Receiver URL').fill(receiver.url('/console'));
    await add.getByLabel(/qr\.created/).check();
    await expectAccessible(page, 'the add-webhook dialog');
    await add.getByRole('button', { name: 'Add webhook' }).click();
    const added = page.getByRole('dialog', { name: 'Webhook added' });
    const secret = await added.getByLabel('Secret').inputValue();
    expect(secret).toMatch(/^whsec_/);
    await expectAccessible(page, 'the signing secret dialog');
    await added.getByRole('button', { name: 'Done' }).click();
    expect(await page.content()).not.toContain(secret);
    const card = page.getByRole('article', { name: `Webhook ${receiver.url('/console')}` });
    await card.waitFor();

    // an event: a code created through the API
    await h.createQr(workspace, { name: 'Hooked code', destination_url: 'https://example.com/hooked' });
    await waitFor(() => receiver.delivered().length >= 1, 'the delivery');
    await expect
      .poll(
        async () => {
          await card.getByRole('button', { name: /Refresh the delivery log/ }).click();
          return card.getByRole('region', { name: /Deliveries to/ }).getByText('200', { exact: true }).count();
        },
        { timeout: 15_000 },
      )
      .toBeGreaterThan(0);

    // the events feed shows it too
    await openFromSidebar(page, 'Events');
    await page.getByText('Hooked code was created').waitFor();

    // delete
    await openFromSidebar(page, 'Webhooks');
    await page.getByRole('button', { name: `Delete webhook ${receiver.url('/console')}` }).click();
    await page.getByRole('alertdialog', { name: 'Delete this webhook?' }).waitFor();
    await expectAccessible(page, 'the delete-webhook confirmation');
    await page.getByRole('alertdialog', { name: 'Delete this webhook?' }).getByRole('button', { name: 'Delete webhook' }).click();
    await page.getByText('No webhooks yet.').waitFor();
    // the signing secret is in no log line
    expect(h.logs()).not.toContain(secret);
  });

  it('"Send test event" answers with the receiver\'s status', async () => {
    const { email } = await h.createWorkspace('Test events');
    const { page } = await h.newPage();
    await signIn(page, email);
    await openFromSidebar(page, 'Webhooks');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const add = page.getByRole('dialog', { name: 'Add webhook' });
    await add.getByLabel('Receiver URL').fill(receiver.url('/test-event'));
    await add.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByRole('dialog', { name: 'Webhook added' }).getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: `Send test event to ${receiver.url('/test-event')}` }).click();
    await page.getByText(/Test event delivered: 200 in \d+ ms/).waitFor();
    expect(receiver.received.some((r) => r.path === '/test-event')).toBe(true);
  });
});
