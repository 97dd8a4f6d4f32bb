import { NodeApiError } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { runNode } from '../../../../test/harness/declarative';
import { api, credentials, errorBody, qrCode, useNock } from '../../../../test/harness/fixtures';
import { QrFlow } from '../../QrFlow.node';

const node = new QrFlow();
useNock();

function run(items: Record<string, unknown>[], extra: { continueOnFail?: boolean; baseUrl?: string } = {}) {
	return runNode(node, {
		items,
		credentials: { ...credentials, baseUrl: extra.baseUrl ?? credentials.baseUrl },
		continueOnFail: extra.continueOnFail,
	});
}

describe('QR Code: Create', () => {
	it('posts a dynamic URL code and returns the created code', async () => {
		let sentBody: unknown;
		api()
			.post('/api/v1/qr', (body) => {
				sentBody = body;
				return true;
			})
			.reply(201, { data: qrCode() });

		const { output } = await run([
			{ resource: 'qrCode', operation: 'create', name: 'Spring flyer', destinationUrl: 'https://example.com/spring' },
		]);

		expect(sentBody).toEqual({
			name: 'Spring flyer',
			type: 'url',
			mode: 'dynamic',
			destination_url: 'https://example.com/spring',
		});
		expect(output[0]).toEqual([{ json: qrCode(), pairedItem: { item: 0 } }]);
	});

	it('sends an Idempotency-Key that is stable for the item and execution', async () => {
		const keys: string[] = [];
		api()
			.post('/api/v1/qr')
			.twice()
			.reply(function () {
				keys.push(String(this.req.headers['idempotency-key']));
				return [201, { data: qrCode() }];
			});
		const item = { resource: 'qrCode', operation: 'create', name: 'A', destinationUrl: 'https://a.example' };

		await runNode(node, { items: [item, item], credentials, executionId: '1234' });

		expect(keys).toEqual(['n8n-1234-node-1-0', 'n8n-1234-node-1-1']);
	});

	it('uses the Idempotency Key the user set', async () => {
		api()
			.post('/api/v1/qr')
			.matchHeader('idempotency-key', 'order-4711')
			.reply(201, { data: qrCode() });

		const { output } = await run([
			{
				resource: 'qrCode',
				operation: 'create',
				name: 'A',
				destinationUrl: 'https://a.example',
				additionalFields: { idempotencyKey: 'order-4711' },
			},
		]);
		expect(output[0]).toHaveLength(1);
	});

	it('sends tags, status and style from Additional Fields into the body', async () => {
		let sentBody: Record<string, unknown> = {};
		api()
			.post('/api/v1/qr', (body) => {
				sentBody = body;
				return true;
			})
			.reply(201, { data: qrCode() });

		await run([
			{
				resource: 'qrCode',
				operation: 'create',
				name: 'Styled',
				mode: 'static',
				destinationUrl: 'https://a.example',
				additionalFields: { tags: ['spring', 'print'], status: 'paused', foreground: '#112233', margin: 2, errorCorrection: 'H' },
			},
		]);

		expect(sentBody).toMatchObject({
			mode: 'static',
			tags: ['spring', 'print'],
			status: 'paused',
			style: { foreground: '#112233', margin: 2, error_correction: 'H' },
		});
		expect(sentBody.style).not.toHaveProperty('background');
	});

	it('sends a Wi-Fi code as static with its parsed content and no destination', async () => {
		let sentBody: Record<string, unknown> = {};
		api()
			.post('/api/v1/qr', (body) => {
				sentBody = body;
				return true;
			})
			.reply(201, { data: qrCode({ type: 'wifi', mode: 'static' }) });

		await run([
			{ resource: 'qrCode', operation: 'create', name: 'Cafe', type: 'wifi', content: '{"ssid": "Cafe", "encryption": "WPA", "password": "pw"}' },
		]);

		expect(sentBody).toEqual({
			name: 'Cafe',
			type: 'wifi',
			mode: 'static',
			content: { ssid: 'Cafe', encryption: 'WPA', password: 'pw' },
		});
	});

	it('refuses content that is not a JSON object before calling the API', async () => {
		await expect(
			run([{ resource: 'qrCode', operation: 'create', name: 'T', type: 'text', content: '[1, 2]' }]),
		).rejects.toThrow('Content must be a JSON object');
	});

	it('shows the server message of a validation error, with the field details', async () => {
		api()
			.post('/api/v1/qr')
			.reply(400, errorBody('validation_error', 'The request body is invalid.', [{ field: 'destination_url', message: 'Invalid URL' }]));

		const error = await run([
			{ resource: 'qrCode', operation: 'create', name: 'Bad', destinationUrl: 'not a url' },
		]).catch((caught: unknown) => caught);

		expect(error).toBeInstanceOf(NodeApiError);
		expect((error as NodeApiError).message).toBe('The request body is invalid.');
		expect((error as NodeApiError).description).toContain('destination_url: Invalid URL');
		expect((error as NodeApiError).httpCode).toBe('400');
	});

	it('works with a base URL that ends in a slash', async () => {
		api().post('/api/v1/qr').reply(201, { data: qrCode() });
		const { output } = await run(
			[{ resource: 'qrCode', operation: 'create', name: 'A', destinationUrl: 'https://a.example' }],
			{ baseUrl: 'https://qrflow.test/' },
		);
		expect(output[0]).toHaveLength(1);
	});
});

describe('QR Code: Get, Update, Delete', () => {
	it('gets one code by id', async () => {
		api().get('/api/v1/qr/qr_8fK2mP0aZx91').reply(200, { data: qrCode({ scan_count: 7 }) });

		const { output } = await run([{ resource: 'qrCode', operation: 'get', qrCodeId: 'qr_8fK2mP0aZx91' }]);

		expect(output[0]?.[0]?.json).toMatchObject({ id: 'qr_8fK2mP0aZx91', scan_count: 7 });
	});

	it('a missing code fails with the server message "QR code not found"', async () => {
		api().get('/api/v1/qr/qr_missing').reply(404, errorBody('not_found', 'QR code not found.'));

		await expect(run([{ resource: 'qrCode', operation: 'get', qrCodeId: 'qr_missing' }])).rejects.toThrow(
			'QR code not found.',
		);
	});

	it('with Continue On Fail a failing item becomes an error item paired to its input', async () => {
		api().get('/api/v1/qr/qr_missing').reply(404, errorBody('not_found', 'QR code not found.'));
		api().get('/api/v1/qr/qr_8fK2mP0aZx91').reply(200, { data: qrCode() });

		const { output } = await run(
			[
				{ resource: 'qrCode', operation: 'get', qrCodeId: 'qr_missing' },
				{ resource: 'qrCode', operation: 'get', qrCodeId: 'qr_8fK2mP0aZx91' },
			],
			{ continueOnFail: true },
		);

		expect(output[0]?.[0]?.json).toEqual({});
		expect(output[0]?.[0]?.error?.message).toBe('QR code not found.');
		expect(output[0]?.[0]?.pairedItem).toEqual({ item: 0 });
		expect(output[0]?.[1]).toEqual({ json: qrCode(), pairedItem: { item: 1 } });
	});

	it('patches only the fields the user filled in', async () => {
		let sentBody: unknown;
		api()
			.patch('/api/v1/qr/qr_8fK2mP0aZx91', (body) => {
				sentBody = body;
				return true;
			})
			.reply(200, { data: qrCode({ destination_url: 'https://example.com/summer' }) });

		const { output } = await run([
			{
				resource: 'qrCode',
				operation: 'update',
				qrCodeId: 'qr_8fK2mP0aZx91',
				updateFields: { destinationUrl: 'https://example.com/summer', background: '#fafafa' },
			},
		]);

		expect(sentBody).toEqual({ destination_url: 'https://example.com/summer', style: { background: '#fafafa' } });
		expect(output[0]?.[0]?.json).toMatchObject({ destination_url: 'https://example.com/summer' });
	});

	it('update sends parsed content when given', async () => {
		let sentBody: unknown;
		api()
			.patch('/api/v1/qr/qr_txt', (body) => {
				sentBody = body;
				return true;
			})
			.reply(200, { data: qrCode({ id: 'qr_txt', type: 'text' }) });

		await run([
			{ resource: 'qrCode', operation: 'update', qrCodeId: 'qr_txt', updateFields: { content: '{"text": "Hi"}' } },
		]);
		expect(sentBody).toEqual({ content: { text: 'Hi' } });
	});

	it('a rejected update (changing a fixed field) shows the server message', async () => {
		api().patch('/api/v1/qr/qr_1').reply(403, errorBody('insufficient_scope', 'This API key lacks the qr:write scope.'));

		await expect(
			run([{ resource: 'qrCode', operation: 'update', qrCodeId: 'qr_1', updateFields: { name: 'x' } }]),
		).rejects.toThrow('This API key lacks the qr:write scope.');
	});

	it('deletes a code and returns the deletion receipt', async () => {
		api().delete('/api/v1/qr/qr_8fK2mP0aZx91').reply(200, { data: { id: 'qr_8fK2mP0aZx91', deleted: true } });

		const { output } = await run([{ resource: 'qrCode', operation: 'delete', qrCodeId: 'qr_8fK2mP0aZx91' }]);

		expect(output[0]).toEqual([{ json: { id: 'qr_8fK2mP0aZx91', deleted: true }, pairedItem: { item: 0 } }]);
	});
});

describe('QR Code: Get Many', () => {
	const page = (ids: string[], nextCursor: string | null) => ({
		data: ids.map((id) => qrCode({ id })),
		pagination: { limit: ids.length, has_more: nextCursor !== null, next_cursor: nextCursor },
	});

	it('Return All follows next_cursor until the last page', async () => {
		api().get('/api/v1/qr').query({ limit: '100' }).reply(200, page(['qr_1', 'qr_2'], 'c1'));
		api().get('/api/v1/qr').query({ limit: '100', cursor: 'c1' }).reply(200, page(['qr_3'], 'c2'));
		api().get('/api/v1/qr').query({ limit: '100', cursor: 'c2' }).reply(200, page(['qr_4'], null));

		const { output } = await run([{ resource: 'qrCode', operation: 'getAll', returnAll: true }]);

		expect(output[0]?.map((item) => item.json.id)).toEqual(['qr_1', 'qr_2', 'qr_3', 'qr_4']);
		expect(output[0]?.every((item) => JSON.stringify(item.pairedItem) === '{"item":0}')).toBe(true);
	});

	it('Limit asks for no more than needed and stops at the limit', async () => {
		api().get('/api/v1/qr').query({ limit: '3', tag: 'spring', status: 'active' }).reply(200, page(['qr_1', 'qr_2'], 'c1'));
		api().get('/api/v1/qr').query({ limit: '1', tag: 'spring', status: 'active', cursor: 'c1' }).reply(200, page(['qr_3'], 'c2'));

		const { output } = await run([
			{ resource: 'qrCode', operation: 'getAll', returnAll: false, limit: 3, filters: { tag: 'spring', status: 'active' } },
		]);

		expect(output[0]?.map((item) => item.json.id)).toEqual(['qr_1', 'qr_2', 'qr_3']);
	});

	it('an error from the list shows the server message, or becomes an error item with Continue On Fail', async () => {
		api()
			.get('/api/v1/qr')
			.query(true)
			.twice()
			.reply(429, errorBody('rate_limited', 'Too many requests; slow down.'), { 'Retry-After': '12' });

		const error = await run([{ resource: 'qrCode', operation: 'getAll' }]).catch((caught: unknown) => caught);
		expect((error as NodeApiError).message).toBe('Too many requests; slow down.');
		expect((error as NodeApiError).description).toContain('Retry after 12 seconds.');

		const { output } = await run([{ resource: 'qrCode', operation: 'getAll' }], { continueOnFail: true });
		expect(output[0]).toEqual([{ json: { error: 'Too many requests; slow down.' }, pairedItem: { item: 0 } }]);
	});
});

describe('QR Code: Get Image', () => {
	const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

	it('puts the PNG into the binary field "data" by default', async () => {
		api()
			.get('/api/v1/qr/qr_1/image')
			.query({ format: 'png', size: '512' })
			.reply(200, png, { 'Content-Type': 'image/png' });

		const { output } = await run([{ resource: 'qrCode', operation: 'getImage', qrCodeId: 'qr_1' }]);

		const item = output[0]?.[0];
		expect(item?.json).toEqual({ id: 'qr_1', format: 'png', size: 512, mime_type: 'image/png', file_name: 'qr_1.png' });
		expect(item?.binary?.data?.mimeType).toBe('image/png');
		expect(Buffer.from(item?.binary?.data?.data ?? '', 'base64')).toEqual(png);
		expect(item?.pairedItem).toEqual({ item: 0 });
	});

	it('fetches an SVG at the chosen size into a named binary field', async () => {
		const svg = '<svg xmlns="http://www.w3.org/2000/svg"></svg>';
		api()
			.get('/api/v1/qr/qr_1/image')
			.query({ format: 'svg', size: '1024' })
			.reply(200, svg, { 'Content-Type': 'image/svg+xml; charset=utf-8' });

		const { output } = await run([
			{ resource: 'qrCode', operation: 'getImage', qrCodeId: 'qr_1', format: 'svg', size: 1024, binaryPropertyName: 'qrImage' },
		]);

		const binary = output[0]?.[0]?.binary?.qrImage;
		expect(binary?.mimeType).toBe('image/svg+xml');
		expect(binary?.fileName).toBe('qr_1.svg');
		expect(Buffer.from(binary?.data ?? '', 'base64').toString('utf8')).toBe(svg);
	});

	it('fetches a PDF sized in millimetres (no pixel size) as application/pdf binary', async () => {
		const pdf = Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n', 'latin1');
		api()
			.get('/api/v1/qr/qr_1/image')
			.query({ format: 'pdf', size_mm: '40' })
			.reply(200, pdf, { 'Content-Type': 'application/pdf' });
		api().get('/api/v1/qr/qr_1/image').query({ format: 'pdf' }).reply(200, pdf, { 'Content-Type': 'application/pdf' });
		const { output } = await run([
			{ resource: 'qrCode', operation: 'getImage', qrCodeId: 'qr_1', format: 'pdf', sizeMm: 40, binaryPropertyName: 'print' },
			{ resource: 'qrCode', operation: 'getImage', qrCodeId: 'qr_1', format: 'pdf' },
		]);
		const item = output[0]?.[0];
		expect(item?.json).toEqual({ id: 'qr_1', format: 'pdf', size_mm: 40, mime_type: 'application/pdf', file_name: 'qr_1.pdf' });
		expect(item?.binary?.print?.mimeType).toBe('application/pdf');
		expect(Buffer.from(item?.binary?.print?.data ?? '', 'base64')).toEqual(pdf);
		expect(output[0]?.[1]?.json.size_mm).toBeNull();
	});

	it('reads the JSON error out of a binary response', async () => {
		api()
			.get('/api/v1/qr/qr_1/image')
			.query(true)
			.reply(429, errorBody('image_credits_exhausted', 'No image credits left this month.'), { 'Retry-After': '3600' });

		await expect(run([{ resource: 'qrCode', operation: 'getImage', qrCodeId: 'qr_1' }])).rejects.toThrow(
			'No image credits left this month.',
		);
	});

	it('with Continue On Fail keeps going after a failed image', async () => {
		api().get('/api/v1/qr/qr_gone/image').query(true).reply(404, errorBody('not_found', 'QR code not found.'));
		api().get('/api/v1/qr/qr_1/image').query(true).reply(200, png, { 'Content-Type': 'image/png' });

		const { output } = await run(
			[
				{ resource: 'qrCode', operation: 'getImage', qrCodeId: 'qr_gone' },
				{ resource: 'qrCode', operation: 'getImage', qrCodeId: 'qr_1' },
			],
			{ continueOnFail: true },
		);

		expect(output[0]?.[0]).toEqual({ json: { error: 'QR code not found.' }, pairedItem: { item: 0 } });
		expect(output[0]?.[1]?.pairedItem).toEqual({ item: 1 });
		expect(output[0]?.[1]?.binary?.data).toBeDefined();
	});
});
