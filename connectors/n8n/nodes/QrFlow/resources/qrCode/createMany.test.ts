import type { IDataObject, IExecuteFunctions, IExecuteSingleFunctions, IHttpRequestOptions } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { createFakeContext } from '../../../../test/harness/contexts';
import { planRequest, runNode } from '../../../../test/harness/declarative';
import { api, credentials, qrCode, useNock } from '../../../../test/harness/fixtures';
import { QrFlow } from '../../QrFlow.node';
import { buildCreateBody } from './createMany';

const node = new QrFlow();
useNock();

const item = (n: number, extra: Record<string, unknown> = {}) => ({
	resource: 'qrCode',
	operation: 'createMany',
	name: `Store ${n}`,
	destinationUrl: `https://example.com/store/${n}`,
	...extra,
});

interface Call {
	key: string;
	items: IDataObject[];
}

/** Answers bulk calls with a created code per item, recording each call. */
function expectBulk(calls: Call[], times = 1) {
	return api()
		.post('/api/v1/qr/bulk')
		.times(times)
		.reply(200, function (_uri, body) {
			const { items } = body as { items: IDataObject[] };
			calls.push({ key: String(this.req.headers['idempotency-key']), items });
			return { data: items.map((sent, index) => ({ index, status: 201, data: qrCode({ id: `qr_${String(sent.name).replace(/\W/g, '')}`, name: sent.name }) })) };
		});
}

describe('QR Code: Create Many', () => {
	it('sends 250 items in calls of 100, 100 and 50 and outputs one code per input item, paired to it', async () => {
		const calls: Call[] = [];
		expectBulk(calls, 3);
		const { output } = await runNode(node, { items: Array.from({ length: 250 }, (_, n) => item(n)), credentials, executionId: 'exec-9' });
		expect(calls.map((call) => call.items.length)).toEqual([100, 100, 50]);
		expect(calls.map((call) => call.key)).toEqual(['n8n-exec-9-node-1-bulk-part1', 'n8n-exec-9-node-1-bulk-part2', 'n8n-exec-9-node-1-bulk-part3']);
		expect(output[0]).toHaveLength(250);
		expect(output[0]?.[0]).toEqual({ json: qrCode({ id: 'qr_Store0', name: 'Store 0' }), pairedItem: { item: 0 } });
		expect(output[0]?.[249]?.json.name).toBe('Store 249');
		expect(output[0]?.[249]?.pairedItem).toEqual({ item: 249 });
	});

	it('builds each item from its own parameters: type, content, style, tags, domain and smart options', async () => {
		const calls: Call[] = [];
		expectBulk(calls);
		await runNode(node, {
			items: [
				item(1, { additionalFields: { tags: ['north'], margin: 2, domain: 'go.acme.com', maxScans: 10, utmSource: 'flyer' } }),
				{ resource: 'qrCode', operation: 'createMany', name: 'Menu', type: 'text', content: '{"text": "Soup"}' },
			],
			credentials,
		});
		expect(calls[0]?.items).toEqual([
			{
				name: 'Store 1',
				type: 'url',
				mode: 'dynamic',
				destination_url: 'https://example.com/store/1',
				tags: ['north'],
				style: { margin: 2 },
				domain: 'go.acme.com',
				max_scans: 10,
				utm: { source: 'flyer' },
			},
			{ name: 'Menu', type: 'text', mode: 'static', content: { text: 'Soup' } },
		]);
	});

	it('uses the Idempotency Key of the first item, plus the part number', async () => {
		api().post('/api/v1/qr/bulk').matchHeader('idempotency-key', 'import-7-part1').reply(200, { data: [{ index: 0, status: 201, data: qrCode() }] });
		await runNode(node, { items: [item(1, { additionalFields: { idempotencyKey: 'import-7' } })], credentials });
	});

	const mixed = {
		data: [
			{ index: 0, status: 201, data: qrCode({ id: 'qr_a' }) },
			{ index: 1, status: 400, error: { code: 'validation_error', message: 'The request body is invalid.', details: [{ field: 'destination_url', message: 'must be an absolute http or https URL' }] } },
			{ index: 2, status: 201, data: qrCode({ id: 'qr_c' }) },
		],
	};

	it('with Continue On Fail a refused item becomes an error item paired to its input, the others go on', async () => {
		api().post('/api/v1/qr/bulk').reply(200, mixed);
		const { output } = await runNode(node, { items: [item(0), item(1, { destinationUrl: 'nope' }), item(2)], credentials, continueOnFail: true });
		expect(output[0]?.map((entry) => entry.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(output[0]?.[1]?.json).toEqual({
			error: 'The request body is invalid.',
			code: 'validation_error',
			status: 400,
			details: [{ field: 'destination_url', message: 'must be an absolute http or https URL' }],
		});
		expect(output[0]?.[2]?.json.id).toBe('qr_c');
	});

	it('without Continue On Fail a refused item fails the node with a NodeApiError naming the item', async () => {
		api().post('/api/v1/qr/bulk').reply(200, mixed);
		const error = await runNode(node, { items: [item(0), item(1), item(2)], credentials }).catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(NodeApiError);
		expect((error as NodeApiError).message).toBe('Item 1 was refused: The request body is invalid.');
		expect((error as NodeApiError).httpCode).toBe('400');
		expect((error as NodeApiError).context.itemIndex).toBe(1);
		expect((error as NodeApiError).description).toContain('destination_url: must be an absolute http or https URL');
		expect((error as NodeApiError).description).toContain('2 of the 3 items sent with it were created');
	});

	it('a bad parameter fails the node before anything is sent, or only its item with Continue On Fail', async () => {
		const bad = { resource: 'qrCode', operation: 'createMany', name: 'T', type: 'text', content: '[1]' };
		await expect(runNode(node, { items: [item(0), bad], credentials })).rejects.toThrow('Content must be a JSON object');
		const calls: Call[] = [];
		expectBulk(calls);
		const { output } = await runNode(node, { items: [item(0), bad], credentials, continueOnFail: true });
		expect(calls[0]?.items).toHaveLength(1);
		expect(output[0]?.map((entry) => [entry.pairedItem, entry.json.error ?? entry.json.name])).toEqual([
			[{ item: 0 }, 'Store 0'],
			[{ item: 1 }, 'Content must be a JSON object'],
		]);
	});

	it('a refused call fails every item of it alike', async () => {
		api().post('/api/v1/qr/bulk').twice().reply(403, { error: { code: 'insufficient_scope', message: 'This API key lacks the qr:write scope.' } });
		await expect(runNode(node, { items: [item(0)], credentials })).rejects.toThrow('This API key lacks the qr:write scope.');
		const { output } = await runNode(node, { items: [item(0), item(1)], credentials, continueOnFail: true });
		expect(output[0]).toEqual([
			{ json: { error: 'This API key lacks the qr:write scope.', status: 403 }, pairedItem: { item: 0 } },
			{ json: { error: 'This API key lacks the qr:write scope.', status: 403 }, pairedItem: { item: 1 } },
		]);
	});

	it('builds the same body as Create for the same parameters', async () => {
		const parameters = {
			resource: 'qrCode',
			name: 'Same',
			destinationUrl: 'https://example.com/same',
			additionalFields: {
				tags: ['a'],
				status: 'paused',
				foreground: '#112233',
				errorCorrection: 'H',
				domain: 'go.acme.com',
				expiredUrl: 'https://example.com/over',
				validUntil: '2026-12-31T23:00:00.000Z',
				redirectRules: { rule: [{ condition: 'country', values: 'de', url: 'https://example.com/de' }] },
				variants: { variant: [{ url: 'https://example.com/a', weight: 1 }, { url: 'https://example.com/b', weight: 3 }] },
			},
		};
		const single = createFakeContext({ properties: node.description.properties, items: [{ ...parameters, operation: 'create' }], credentials });
		const plan = planRequest(node, single.parameters[0] ?? {}, credentials as unknown as IDataObject);
		let options: IHttpRequestOptions = plan.options;
		for (const preSend of plan.preSend) options = await preSend.call(single.context as unknown as IExecuteSingleFunctions, options);

		const many = createFakeContext({ properties: node.description.properties, items: [{ ...parameters, operation: 'createMany' }], credentials }, { kind: 'execute' });
		expect(buildCreateBody.call(many.context as unknown as IExecuteFunctions, 0)).toEqual(options.body);
	});
});
