// The n8n nodes against a real qrflow server on port 0 (no mocks): every QRflow operation through
// the package's own test harness, the trigger's webhook lifecycle and signature check on a real
// delivery, and polling on the real events feed.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	createFakeContext,
	type Credentials,
	type IDataObject,
	type IHookFunctions,
	type ILoadOptionsFunctions,
	type IPollFunctions,
	type IWebhookFunctions,
	type NodeApiError,
} from '../connectors/n8n/test/harness/contexts';
import { runNode } from '../connectors/n8n/test/harness/declarative';
import { QrFlow } from '../connectors/n8n/nodes/QrFlow/QrFlow.node';
import { QrFlowTrigger } from '../connectors/n8n/nodes/QrFlowTrigger/QrFlowTrigger.node';

const helperPath = path.join(__dirname, 'helpers', 'server.ts');
const serverHelperExists = fs.existsSync(helperPath);

type TestServer = Awaited<ReturnType<typeof import('./helpers/server.js').startTestServer>>;

const node = new QrFlow();
const trigger = new QrFlowTrigger();

describe.skipIf(!serverHelperExists)('n8n nodes against a real qrflow server', () => {
	let server: TestServer;
	let credentials: Credentials;

	beforeAll(async () => {
		const { startTestServer } = await import('./helpers/server.js');
		// Custom domains are verified at once here: their DNS check has its own tests in server/src/domains/.
		server = await startTestServer({ env: { QRFLOW_DOMAIN_VERIFICATION: 'off' } });
		const { secret } = await server.createKey({ name: 'n8n-e2e' });
		credentials = { apiKey: secret, baseUrl: server.baseUrl };
	});

	afterAll(async () => {
		await server?.cleanup();
	});

	const run = (items: Record<string, unknown>[], continueOnFail = false) =>
		runNode(node, { items, credentials, continueOnFail });

	it('creates, reads, updates, renders and deletes a QR code', async () => {
		const created = (
			await run([
				{
					resource: 'qrCode',
					operation: 'create',
					name: 'E2E flyer',
					destinationUrl: 'https://example.com/spring',
					additionalFields: { tags: ['e2e'], margin: 2 },
				},
			])
		).output[0]?.[0]?.json as IDataObject;
		expect(created).toMatchObject({ name: 'E2E flyer', type: 'url', mode: 'dynamic', tags: ['e2e'] });
		expect(String(created.id)).toMatch(/^qr_/);
		expect((created.style as IDataObject).margin).toBe(2);

		const fetched = (await run([{ resource: 'qrCode', operation: 'get', qrCodeId: created.id }])).output[0]?.[0]?.json;
		expect(fetched?.id).toBe(created.id);

		const updated = (
			await run([
				{
					resource: 'qrCode',
					operation: 'update',
					qrCodeId: created.id,
					updateFields: { destinationUrl: 'https://example.com/summer', status: 'paused' },
				},
			])
		).output[0]?.[0]?.json;
		expect(updated).toMatchObject({ destination_url: 'https://example.com/summer', status: 'paused' });

		const png = (await run([{ resource: 'qrCode', operation: 'getImage', qrCodeId: created.id }])).output[0]?.[0];
		const pngBytes = Buffer.from(png?.binary?.data?.data ?? '', 'base64');
		expect(pngBytes.subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
		expect(png?.binary?.data?.mimeType).toBe('image/png');

		const svg = (
			await run([
				{ resource: 'qrCode', operation: 'getImage', qrCodeId: created.id, format: 'svg', size: 256, binaryPropertyName: 'svg' },
			])
		).output[0]?.[0];
		expect(Buffer.from(svg?.binary?.svg?.data ?? '', 'base64').toString('utf8')).toContain('<svg');

		const deleted = (await run([{ resource: 'qrCode', operation: 'delete', qrCodeId: created.id }])).output[0]?.[0]?.json;
		expect(deleted).toEqual({ id: created.id, deleted: true });

		const error = await run([{ resource: 'qrCode', operation: 'get', qrCodeId: created.id }]).catch((caught: unknown) => caught);
		expect((error as NodeApiError).httpCode).toBe('404');
		expect((error as NodeApiError).message).not.toMatch(/status code/i);
	});

	it('creates non-URL codes with their content', async () => {
		const wifi = (
			await run([
				{ resource: 'qrCode', operation: 'create', name: 'Cafe Wi-Fi', type: 'wifi', content: '{"ssid": "Cafe", "encryption": "WPA", "password": "espresso"}' },
			])
		).output[0]?.[0]?.json;
		expect(wifi).toMatchObject({ type: 'wifi', mode: 'static', content: { ssid: 'Cafe', encryption: 'WPA' } });
	});

	it('a repeated create with the same Idempotency Key returns the first code', async () => {
		const item = {
			resource: 'qrCode',
			operation: 'create',
			name: 'Once only',
			destinationUrl: 'https://example.com/once',
			additionalFields: { idempotencyKey: 'e2e-once-only' },
		};
		const first = (await run([item])).output[0]?.[0]?.json;
		const second = (await run([item])).output[0]?.[0]?.json;
		expect(second?.id).toBe(first?.id);
	});

	it('Get Many with Return All follows the cursor past the first page of 100', async () => {
		for (let index = 0; index < 101; index++) {
			const response = await server.request('POST', '/api/v1/qr', {
				token: credentials.apiKey,
				body: { name: `bulk ${index}`, destination_url: `https://example.com/${index}`, tags: ['bulk'] },
			});
			expect(response.status).toBe(201);
		}

		const all = (await run([{ resource: 'qrCode', operation: 'getAll', returnAll: true, filters: { tag: 'bulk' } }])).output[0] ?? [];
		expect(all).toHaveLength(101);
		expect(new Set(all.map((item) => item.json.id)).size).toBe(101);

		const limited = (await run([{ resource: 'qrCode', operation: 'getAll', limit: 5, filters: { tag: 'bulk' } }])).output[0] ?? [];
		expect(limited).toHaveLength(5);
	});

	it('reads analytics with an interval, and usage', async () => {
		const code = (
			await run([{ resource: 'qrCode', operation: 'create', name: 'Analytics', destinationUrl: 'https://example.com/a' }])
		).output[0]?.[0]?.json as IDataObject;

		const analytics = (
			await run([{ resource: 'analytics', operation: 'get', qrCodeId: code.id, range: 'last7Days', interval: 'week' }])
		).output[0]?.[0]?.json;
		expect(analytics).toMatchObject({ qr_id: code.id, interval: 'week', total_scans: 0 });

		const usage = (await run([{ resource: 'usage', operation: 'get' }])).output[0]?.[0]?.json as IDataObject;
		expect((usage.api_calls as IDataObject).used).toBeGreaterThan(0);
	});

	it('with Continue On Fail a missing code becomes an error item paired to its input', async () => {
		const { output } = await run(
			[
				{ resource: 'qrCode', operation: 'get', qrCodeId: 'qr_doesnotexist' },
				{ resource: 'usage', operation: 'get' },
			],
			true,
		);
		expect(output[0]?.[0]?.pairedItem).toEqual({ item: 0 });
		expect((output[0]?.[0]?.error as NodeApiError | undefined)?.httpCode).toBe('404');
		expect(output[0]?.[1]?.json.api_calls).toBeDefined();
	});

	it('lists the custom domains in the Domain option and creates a code on one', async () => {
		const manager = await server.createKey({ name: 'n8n-domains', scopes: ['qr:read', 'qr:write', 'domains:write'] });
		const added = await server.request('POST', '/api/v1/domains', { token: manager.secret, body: { hostname: 'go.n8n-e2e.com' } });
		expect(added.status, await added.clone().text()).toBe(201);

		const { context } = createFakeContext({ properties: node.description.properties, items: [{}], credentials });
		const options = await node.methods.loadOptions.getDomains.call(context as unknown as ILoadOptionsFunctions);
		expect(options).toEqual([{ name: 'go.n8n-e2e.com', value: 'go.n8n-e2e.com' }]);

		const code = (
			await run([
				{ resource: 'qrCode', operation: 'create', name: 'On a domain', destinationUrl: 'https://example.com/d', additionalFields: { domain: 'go.n8n-e2e.com' } },
			])
		).output[0]?.[0]?.json as IDataObject;
		expect(code).toMatchObject({ domain: 'go.n8n-e2e.com', short_url: `https://go.n8n-e2e.com/${String(code.short_code)}` });
	});

	it('Create Many sends 130 items in two bulk calls, pairs each output to its item, and honours Continue On Fail', async () => {
		const items = Array.from({ length: 130 }, (_, n) => ({
			resource: 'qrCode',
			operation: 'createMany',
			name: `many ${n}`,
			destinationUrl: n === 107 ? 'javascript:alert(1)' : `https://example.com/many/${n}`,
			additionalFields: { tags: ['many'], domain: 'go.n8n-e2e.com' },
		}));
		const { output } = await runNode(node, { items, credentials, continueOnFail: true, executionId: 'e2e-many' });
		const results = output[0] ?? [];
		expect(results).toHaveLength(130);
		expect(results.map((result) => (result.pairedItem as { item: number }).item)).toEqual(items.map((_, n) => n));
		expect(results[107]?.json).toMatchObject({ status: 400, code: 'validation_error' });
		expect(results[129]?.json).toMatchObject({ name: 'many 129', domain: 'go.n8n-e2e.com' });
		const ids = results.filter((result) => result.json.id).map((result) => result.json.id);
		expect(new Set(ids).size).toBe(129);

		// The same execution again (Retry On Fail): the calls are replayed, nothing is created twice.
		const again = await runNode(node, { items, credentials, continueOnFail: true, executionId: 'e2e-many' });
		expect((again.output[0] ?? []).filter((result) => result.json.id).map((result) => result.json.id)).toEqual(ids);
		const listed = (await run([{ resource: 'qrCode', operation: 'getAll', returnAll: true, filters: { tag: 'many' } }])).output[0] ?? [];
		expect(listed).toHaveLength(129);

		// Without Continue On Fail the refused item fails the node, named.
		const error = await runNode(node, { items: items.slice(100, 110), credentials }).catch((caught: unknown) => caught);
		expect((error as NodeApiError).message).toMatch(/^Item 7 was refused: /);
		expect((error as NodeApiError).httpCode).toBe('400');
	});

	it('smart options, a logo from a binary field and a PDF on the real server', async () => {
		const code = (
			await run([
				{
					resource: 'qrCode',
					operation: 'create',
					name: 'Smart n8n',
					destinationUrl: 'https://example.com/desk',
					additionalFields: {
						redirectRules: { rule: [{ condition: 'country', values: 'de', url: 'https://example.com/de' }] },
						variants: { variant: [{ url: 'https://example.com/a', weight: 1 }, { url: 'https://example.com/b', weight: 1 }] },
						utmCampaign: 'spring',
						password: 'open-sesame-42',
						validFrom: '2000-01-01T00:00:00Z',
					},
				},
			])
		).output[0]?.[0]?.json as IDataObject;
		expect(code).toMatchObject({
			redirect_rules: [{ url: 'https://example.com/de', conditions: [{ type: 'country', in: ['DE'] }] }],
			variants: [{ url: 'https://example.com/a', weight: 1 }, { url: 'https://example.com/b', weight: 1 }],
			utm: { campaign: 'spring' },
			password_protected: true,
			state: 'live',
		});
		const cleared = (
			await run([{ resource: 'qrCode', operation: 'update', qrCodeId: code.id, updateFields: { removeSettings: ['password', 'variants', 'redirect_rules'] } }])
		).output[0]?.[0]?.json;
		expect(cleared).toMatchObject({ password_protected: false, variants: null, redirect_rules: [] });

		const logo = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="#c00"/></svg>');
		const branded = (
			await runNode(node, {
				items: [{ resource: 'qrCode', operation: 'update', qrCodeId: code.id, updateFields: { logoBinaryProperty: 'logo' } }],
				binary: [{ logo: { data: logo.toString('base64'), mimeType: 'image/svg+xml', fileName: 'logo.svg' } }],
				credentials,
			})
		).output[0]?.[0]?.json;
		expect(branded?.logo).toMatchObject({ content_type: 'image/svg+xml' });

		const pdf = (await run([{ resource: 'qrCode', operation: 'getImage', qrCodeId: code.id, format: 'pdf', sizeMm: 40 }])).output[0]?.[0];
		expect(pdf?.binary?.data?.mimeType).toBe('application/pdf');
		expect(Buffer.from(pdf?.binary?.data?.data ?? '', 'base64').subarray(0, 5).toString('latin1')).toBe('%PDF-');

		const removed = (await run([{ resource: 'qrCode', operation: 'update', qrCodeId: code.id, updateFields: { removeLogo: true } }])).output[0]?.[0]?.json;
		expect(removed?.logo).toBeNull();
	});

	it('a bad API key fails with the server message', async () => {
		const error = await runNode(node, {
			items: [{ resource: 'usage', operation: 'get' }],
			credentials: { ...credentials, apiKey: `qr_live_${'x'.repeat(32)}` },
		}).catch((caught: unknown) => caught);
		expect((error as NodeApiError).httpCode).toBe('401');
	});

	it('polling emits a qr.created event that happened after activation', async () => {
		const staticData: IDataObject = {};
		const poll = () => {
			const { context } = createFakeContext({
				properties: trigger.description.properties,
				items: [{ triggerMode: 'polling', pollEvent: 'qr.created' }],
				credentials,
				staticData,
			});
			return trigger.poll.call(context as unknown as IPollFunctions);
		};
		expect(await poll()).toBeNull();
		const created = (
			await run([{ resource: 'qrCode', operation: 'create', name: 'Polled', destinationUrl: 'https://example.com/p' }])
		).output[0]?.[0]?.json;

		const events = (await poll())?.[0] ?? [];

		expect(events.map((item) => (item.json.data as IDataObject).id)).toEqual([created?.id]);
		expect(await poll()).toBeNull();
	});

	it('registers a webhook, accepts a real signed delivery, rejects a tampered one, and unregisters', async (context) => {
		const deliveries: Array<{ headers: http.IncomingHttpHeaders; rawBody: Buffer }> = [];
		const receiver = http.createServer((request, response) => {
			const chunks: Buffer[] = [];
			request.on('data', (chunk: Buffer) => chunks.push(chunk));
			request.on('end', () => {
				deliveries.push({ headers: request.headers, rawBody: Buffer.concat(chunks) });
				response.writeHead(200).end();
			});
		});
		await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
		const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook`;
		const staticData: IDataObject = {};
		const hookContext = () =>
			createFakeContext({
				properties: trigger.description.properties,
				items: [{ triggerMode: 'webhook', events: ['qr.created'] }],
				credentials,
				staticData,
				webhookUrl,
			}).context as unknown as IHookFunctions;
		const hooks = trigger.webhookMethods.default;
		try {
			const probe = await server.request('GET', '/api/v1/webhooks', { token: credentials.apiKey });
			if (probe.status === 404) context.skip('the server has no /api/v1/webhooks yet');

			expect(await hooks.checkExists.call(hookContext())).toBe(false);
			expect(await hooks.create.call(hookContext())).toBe(true);
			expect(String(staticData.webhookId)).toMatch(/^wh_/);
			expect(String(staticData.webhookSecret)).toMatch(/^whsec_/);
			expect(await hooks.checkExists.call(hookContext())).toBe(true);

			await run([{ resource: 'qrCode', operation: 'create', name: 'Hooked', destinationUrl: 'https://example.com/h' }]);
			for (let waited = 0; deliveries.length === 0 && waited < 100; waited++) {
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
			const delivery = deliveries[0];
			expect(delivery).toBeDefined();

			const deliver = (rawBody: Buffer) => {
				const fake = createFakeContext({
					properties: trigger.description.properties,
					items: [{ triggerMode: 'webhook', events: ['qr.created'] }],
					credentials,
					staticData,
					request: {
						headers: delivery?.headers as Record<string, string>,
						body: JSON.parse(rawBody.toString('utf8')),
						rawBody,
					},
				});
				return { fake, result: trigger.webhook.call(fake.context as unknown as IWebhookFunctions) };
			};
			const genuine = deliver(delivery?.rawBody ?? Buffer.alloc(0));
			const accepted = await genuine.result;
			expect(accepted.workflowData?.[0]?.[0]?.json).toMatchObject({ type: 'qr.created', data: { name: 'Hooked' } });

			const tampered = deliver(Buffer.from((delivery?.rawBody ?? Buffer.alloc(0)).toString('utf8').replace('Hooked', 'Hacked')));
			expect((await tampered.result).workflowData).toBeUndefined();
			expect(tampered.fake.response.statusCode).toBe(401);

			expect(await hooks.delete.call(hookContext())).toBe(true);
			expect(staticData).toEqual({});
		} finally {
			receiver.close();
		}
	});
});
