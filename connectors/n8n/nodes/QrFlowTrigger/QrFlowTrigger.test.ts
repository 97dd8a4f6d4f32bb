import type {
	IDataObject,
	IHookFunctions,
	ILoadOptionsFunctions,
	IPollFunctions,
	IWebhookFunctions,
} from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { createFakeContext, type FakeContextOptions } from '../../test/harness/contexts';
import { api, credentials, errorBody, useNock } from '../../test/harness/fixtures';
import { QrFlowTrigger } from './QrFlowTrigger.node';
import { signPayload } from './signature';

const trigger = new QrFlowTrigger();
const WEBHOOK_URL = 'https://n8n.example.test/webhook/abc/webhook';
const SECRET = `whsec_${'k'.repeat(24)}`;
useNock();

function context(parameters: Record<string, unknown>, extra: Partial<FakeContextOptions> = {}) {
	return createFakeContext({
		properties: trigger.description.properties,
		items: [parameters],
		credentials,
		webhookUrl: WEBHOOK_URL,
		...extra,
	});
}

const hooks = trigger.webhookMethods.default;

describe('QRflow Trigger: event list', () => {
	it('loads the event types from the server', async () => {
		api().get('/api/v1/events/types').reply(200, { data: ['qr.created', 'qr.updated', 'qr.deleted', 'qr.scanned'] });
		const { context: ctx } = context({});

		const options = await trigger.methods.loadOptions.getEventTypes.call(ctx as unknown as ILoadOptionsFunctions);

		expect(options).toEqual([
			{ name: 'QR Code Created', value: 'qr.created' },
			{ name: 'QR Code Updated', value: 'qr.updated' },
			{ name: 'QR Code Deleted', value: 'qr.deleted' },
			{ name: 'QR Code Scanned', value: 'qr.scanned' },
		]);
	});
});

describe('QRflow Trigger: webhook lifecycle', () => {
	it('checkExists is false when nothing was registered yet', async () => {
		const { context: ctx } = context({ events: ['qr.scanned'] });
		expect(await hooks.checkExists.call(ctx as unknown as IHookFunctions)).toBe(false);
	});

	it('create registers the n8n URL for the chosen events and keeps id and secret', async () => {
		api()
			.post('/api/v1/webhooks', { url: WEBHOOK_URL, events: ['qr.scanned', 'qr.created'] })
			.reply(201, {
				data: { id: 'wh_1', url: WEBHOOK_URL, events: ['qr.scanned', 'qr.created'], status: 'active', secret: SECRET },
			});
		const { context: ctx, staticData } = context({ events: ['qr.scanned', 'qr.created'] });

		expect(await hooks.create.call(ctx as unknown as IHookFunctions)).toBe(true);
		expect(staticData).toEqual({ webhookId: 'wh_1', webhookSecret: SECRET });
	});

	it('create shows the server message when the plan or scope forbids webhooks', async () => {
		api().post('/api/v1/webhooks').reply(403, errorBody('insufficient_scope', 'This API key lacks the webhooks:write scope.'));
		const { context: ctx, staticData } = context({ events: ['qr.scanned'] });

		await expect(hooks.create.call(ctx as unknown as IHookFunctions)).rejects.toThrow(
			'This API key lacks the webhooks:write scope.',
		);
		expect(staticData).toEqual({});
	});

	it('checkExists is true when the stored subscription still points here with the same events', async () => {
		api()
			.get('/api/v1/webhooks/wh_1')
			.reply(200, { data: { id: 'wh_1', url: WEBHOOK_URL, events: ['qr.created', 'qr.scanned'], status: 'active' } });
		const { context: ctx } = context(
			{ events: ['qr.scanned', 'qr.created'] },
			{ staticData: { webhookId: 'wh_1', webhookSecret: SECRET } },
		);
		expect(await hooks.checkExists.call(ctx as unknown as IHookFunctions)).toBe(true);
	});

	it('checkExists forgets a subscription the server no longer has', async () => {
		api().get('/api/v1/webhooks/wh_1').reply(404, errorBody('not_found', 'Webhook not found.'));
		const { context: ctx, staticData } = context(
			{ events: ['qr.scanned'] },
			{ staticData: { webhookId: 'wh_1', webhookSecret: SECRET } },
		);
		expect(await hooks.checkExists.call(ctx as unknown as IHookFunctions)).toBe(false);
		expect(staticData).toEqual({});
	});

	it('checkExists is false when the events changed, so n8n registers again', async () => {
		api()
			.get('/api/v1/webhooks/wh_1')
			.reply(200, { data: { id: 'wh_1', url: WEBHOOK_URL, events: ['qr.created'], status: 'active' } });
		const { context: ctx } = context(
			{ events: ['qr.scanned'] },
			{ staticData: { webhookId: 'wh_1', webhookSecret: SECRET } },
		);
		expect(await hooks.checkExists.call(ctx as unknown as IHookFunctions)).toBe(false);
	});

	it('checkExists passes other server errors on', async () => {
		api().get('/api/v1/webhooks/wh_1').reply(401, errorBody('api_key_revoked', 'This API key was revoked.'));
		const { context: ctx } = context(
			{ events: ['qr.scanned'] },
			{ staticData: { webhookId: 'wh_1', webhookSecret: SECRET } },
		);
		await expect(hooks.checkExists.call(ctx as unknown as IHookFunctions)).rejects.toThrow('This API key was revoked.');
	});

	it('delete removes the subscription and clears static data; a 404 counts as deleted', async () => {
		api().delete('/api/v1/webhooks/wh_1').reply(200, { data: { id: 'wh_1', deleted: true } });
		const first = context({ events: ['qr.scanned'] }, { staticData: { webhookId: 'wh_1', webhookSecret: SECRET } });
		expect(await hooks.delete.call(first.context as unknown as IHookFunctions)).toBe(true);
		expect(first.staticData).toEqual({});

		api().delete('/api/v1/webhooks/wh_2').reply(404, errorBody('not_found', 'Webhook not found.'));
		const second = context({ events: ['qr.scanned'] }, { staticData: { webhookId: 'wh_2', webhookSecret: SECRET } });
		expect(await hooks.delete.call(second.context as unknown as IHookFunctions)).toBe(true);
	});

	it('delete reports failure (and keeps the id) when the server errors', async () => {
		api().delete('/api/v1/webhooks/wh_1').reply(500, errorBody('internal_error', 'Something went wrong.'));
		const { context: ctx, staticData, logs } = context(
			{ events: ['qr.scanned'] },
			{ staticData: { webhookId: 'wh_1', webhookSecret: SECRET } },
		);
		expect(await hooks.delete.call(ctx as unknown as IHookFunctions)).toBe(false);
		expect(staticData.webhookId).toBe('wh_1');
		expect(logs.some((line) => line.level === 'error')).toBe(true);
	});

	it('in polling mode registers nothing with the server', async () => {
		const { context: ctx } = context({ triggerMode: 'polling' });
		expect(await hooks.checkExists.call(ctx as unknown as IHookFunctions)).toBe(true);
		expect(await hooks.create.call(ctx as unknown as IHookFunctions)).toBe(true);
	});
});

describe('QRflow Trigger: deliveries', () => {
	const event = {
		id: 'evt_1',
		type: 'qr.scanned',
		created_at: '2026-11-23T10:05:00.000Z',
		data: { id: 'scn_1', qr_id: 'qr_1', qr_name: 'Spring flyer', country: 'US', is_bot: false },
	};
	const rawBody = Buffer.from(JSON.stringify(event));

	function deliver(headers: Record<string, string>, events = ['qr.scanned'], body: unknown = event) {
		return context(
			{ events },
			{ staticData: { webhookId: 'wh_1', webhookSecret: SECRET }, request: { headers, body, rawBody } },
		);
	}

	it('a correctly signed delivery starts the workflow with the event', async () => {
		const t = Math.floor(Date.now() / 1000);
		const { context: ctx, response } = deliver({ 'QRflow-Signature': `t=${t},v1=${signPayload(SECRET, t, rawBody)}` });

		const result = await trigger.webhook.call(ctx as unknown as IWebhookFunctions);

		expect(result.workflowData).toEqual([[{ json: event }]]);
		expect(response.statusCode).toBeUndefined();
	});

	it('a delivery without a signature is answered 401 and emits nothing', async () => {
		const { context: ctx, response } = deliver({});

		const result = await trigger.webhook.call(ctx as unknown as IWebhookFunctions);

		expect(result).toEqual({ noWebhookResponse: true });
		expect(response.statusCode).toBe(401);
		expect(response.body).toEqual({ error: { code: 'invalid_signature', message: 'missing QRflow-Signature header' } });
	});

	it('a delivery signed with another secret is answered 401', async () => {
		const t = Math.floor(Date.now() / 1000);
		const forged = signPayload('whsec_wrong', t, rawBody);
		const { context: ctx, response } = deliver({ 'qrflow-signature': `t=${t},v1=${forged}` });

		const result = await trigger.webhook.call(ctx as unknown as IWebhookFunctions);

		expect(result.workflowData).toBeUndefined();
		expect(response.statusCode).toBe(401);
	});

	it('a replayed delivery older than five minutes is answered 401', async () => {
		const t = Math.floor(Date.now() / 1000) - 600;
		const { context: ctx, response } = deliver({ 'qrflow-signature': `t=${t},v1=${signPayload(SECRET, t, rawBody)}` });

		await trigger.webhook.call(ctx as unknown as IWebhookFunctions);

		expect(response.statusCode).toBe(401);
	});

	it('a signed event of a type not chosen is acknowledged without starting the workflow', async () => {
		const t = Math.floor(Date.now() / 1000);
		const { context: ctx } = deliver({ 'qrflow-signature': `t=${t},v1=${signPayload(SECRET, t, rawBody)}` }, ['qr.created']);

		const result = await trigger.webhook.call(ctx as unknown as IWebhookFunctions);

		expect(result.workflowData).toBeUndefined();
		expect(result.webhookResponse).toEqual({ received: true, ignored: true });
	});
});

describe('QRflow Trigger: polling', () => {
	const scan = (id: string) => ({ id, type: 'qr.scanned', created_at: '2026-11-23T10:05:00.000Z', data: { qr_id: 'qr_1' } });
	const poll = (staticData: IDataObject, mode: 'manual' | 'trigger' = 'trigger', pollEvent = 'qr.scanned') => {
		const { context: ctx } = context({ triggerMode: 'polling', pollEvent }, { staticData, mode });
		return trigger.poll.call(ctx as unknown as IPollFunctions);
	};

	it('the first poll only remembers when polling started', async () => {
		const staticData: IDataObject = {};
		const before = Date.now();

		expect(await poll(staticData)).toBeNull();

		expect(Date.parse(String(staticData.after))).toBeGreaterThanOrEqual(before - 1000);
	});

	it('emits new events oldest first across pages and moves the cursor to the newest', async () => {
		api()
			.get('/api/v1/events')
			.query({ type: 'qr.scanned', after: 'evt_10', limit: '100' })
			.reply(200, { data: [scan('evt_13'), scan('evt_12')], pagination: { has_more: true, next_cursor: 'p2' } });
		api()
			.get('/api/v1/events')
			.query({ type: 'qr.scanned', after: 'evt_10', limit: '100', cursor: 'p2' })
			.reply(200, { data: [scan('evt_11')], pagination: { has_more: false, next_cursor: null } });
		const staticData: IDataObject = { after: 'evt_10' };

		const result = await poll(staticData);

		expect(result?.[0]?.map((item) => item.json.id)).toEqual(['evt_11', 'evt_12', 'evt_13']);
		expect(staticData.after).toBe('evt_13');
	});

	it('returns null and keeps the cursor when nothing is new', async () => {
		api()
			.get('/api/v1/events')
			.query({ type: 'qr.created', after: 'evt_5', limit: '100' })
			.reply(200, { data: [], pagination: { has_more: false, next_cursor: null } });
		const staticData: IDataObject = { after: 'evt_5' };

		expect(await poll(staticData, 'trigger', 'qr.created')).toBeNull();
		expect(staticData.after).toBe('evt_5');
	});

	it('in manual mode returns the latest event without touching the cursor', async () => {
		api().get('/api/v1/events').query({ type: 'qr.scanned', limit: '1' }).reply(200, { data: [scan('evt_99')] });
		const staticData: IDataObject = { after: 'evt_5' };

		const result = await poll(staticData, 'manual');

		expect(result?.[0]?.[0]?.json.id).toBe('evt_99');
		expect(staticData.after).toBe('evt_5');
	});

	it('in manual mode falls back to a sample item when there are no events yet', async () => {
		api().get('/api/v1/events').query({ type: 'qr.created', limit: '1' }).reply(200, { data: [] });

		const result = await poll({}, 'manual', 'qr.created');

		expect(result?.[0]?.[0]?.json).toMatchObject({ id: 'evt_sample', type: 'qr.created' });
	});

	it('a failing feed surfaces the server message', async () => {
		api().get('/api/v1/events').query(true).reply(401, errorBody('api_key_paused', 'This API key is paused.'));
		await expect(poll({ after: 'evt_1' })).rejects.toThrow('This API key is paused.');
	});

	it('in webhook mode polling does nothing', async () => {
		const { context: ctx } = context({ triggerMode: 'webhook', events: ['qr.scanned'] });
		expect(await trigger.poll.call(ctx as unknown as IPollFunctions)).toBeNull();
	});
});
