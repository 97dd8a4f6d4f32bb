import type { ILoadOptionsFunctions } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { createFakeContext } from '../../../../test/harness/contexts';
import { runNode } from '../../../../test/harness/declarative';
import { api, credentials, qrCode, useNock } from '../../../../test/harness/fixtures';
import { QrFlow } from '../../QrFlow.node';

const node = new QrFlow();
useNock();

/** Captures the JSON body of the next `method path` call. */
function capture(method: 'post' | 'patch', path: string) {
	const sent: { body?: Record<string, unknown> } = {};
	const scope = api();
	scope[method](path, (body) => {
			sent.body = body as Record<string, unknown>;
			return true;
		})
		.reply(method === 'post' ? 201 : 200, { data: qrCode() });
	return sent;
}

const create = (additionalFields: Record<string, unknown>) => ({
	resource: 'qrCode',
	operation: 'create',
	name: 'Smart',
	destinationUrl: 'https://example.com/smart',
	additionalFields,
});

describe('QR Code: smart-code options', () => {
	it('Create sends rules (simple, in order), variants, schedule, scan limit, password, UTM and domain', async () => {
		const sent = capture('post', '/api/v1/qr');
		await runNode(node, {
			items: [
				create({
					domain: 'go.acme.com',
					redirectRules: {
						rule: [
							{ condition: 'device', values: 'Mobile, tablet', url: 'https://example.com/app' },
							{ condition: 'country', values: 'de, at', url: 'https://example.com/de' },
							{ condition: 'os', values: 'iOS', url: 'https://example.com/ios' },
						],
					},
					variants: { variant: [{ url: 'https://example.com/a', weight: 70 }, { url: 'https://example.com/b', weight: 30 }] },
					validFrom: '2026-12-01T09:00:00+01:00',
					validUntil: '2026-12-31T23:59:59+01:00',
					maxScans: 500,
					expiredUrl: 'https://example.com/over',
					password: 'open-sesame',
					utmSource: 'flyer',
					utmContent: 'back',
				}),
			],
			credentials,
		});
		expect(sent.body).toEqual({
			name: 'Smart',
			type: 'url',
			mode: 'dynamic',
			destination_url: 'https://example.com/smart',
			domain: 'go.acme.com',
			redirect_rules: [
				{ url: 'https://example.com/app', conditions: [{ type: 'device', in: ['mobile', 'tablet'] }] },
				{ url: 'https://example.com/de', conditions: [{ type: 'country', in: ['DE', 'AT'] }] },
				{ url: 'https://example.com/ios', conditions: [{ type: 'os', in: ['iOS'] }] },
			],
			variants: [
				{ url: 'https://example.com/a', weight: 70 },
				{ url: 'https://example.com/b', weight: 30 },
			],
			valid_from: '2026-12-01T08:00:00.000Z',
			valid_until: '2026-12-31T22:59:59.000Z',
			max_scans: 500,
			expired_url: 'https://example.com/over',
			password: 'open-sesame',
			utm: { source: 'flyer', content: 'back' },
		});
	});

	it('Create sends the advanced JSON rules as they are', async () => {
		const rules = [{ url: 'https://example.com/flyer', conditions: [{ type: 'query', param: 'src', equals: 'flyer' }] }];
		const sent = capture('post', '/api/v1/qr');
		await runNode(node, { items: [create({ redirectRulesJson: JSON.stringify(rules) })], credentials });
		expect(sent.body?.redirect_rules).toEqual(rules);
	});

	it.each([
		[{ redirectRulesJson: '{oops' }, 'Redirect Rules (JSON) is not valid JSON'],
		[{ redirectRulesJson: '{"url": "x"}' }, 'Redirect Rules (JSON) must be a JSON array'],
		[{ redirectRules: { rule: [{ condition: 'os', values: 'iOS', url: '' }] } }, 'Redirect rule 1 needs at least one value and a URL'],
		[
			{ redirectRulesJson: '[{"url": "https://e.com", "conditions": []}]', redirectRules: { rule: [{ condition: 'os', values: 'iOS', url: 'https://e.com' }] } },
			'Use either Redirect Rules or Redirect Rules (JSON), not both',
		],
		[{ validFrom: 'soon' }, 'Valid From is not a date and time: "soon"'],
	])('Create refuses %j before calling the API', async (fields, message) => {
		await expect(runNode(node, { items: [create(fields)], credentials })).rejects.toThrow(message);
	});

	it('Update sends changed settings and null for each removed one', async () => {
		const sent = capture('patch', '/api/v1/qr/qr_1');
		await runNode(node, {
			items: [
				{
					resource: 'qrCode',
					operation: 'update',
					qrCodeId: 'qr_1',
					updateFields: { utmMedium: 'print', maxScans: 99, removeSettings: ['password', 'valid_until', 'max_scans'] },
				},
			],
			credentials,
		});
		expect(sent.body).toEqual({ utm: { medium: 'print' }, max_scans: null, password: null, valid_until: null });
	});

	it('the password is a password field, and the collections list their options alphabetically', () => {
		const collection = (name: string) =>
			(node.description.properties.find((property) => property.name === name)?.options ?? []) as Array<{ name: string; displayName: string; typeOptions?: { password?: boolean } }>;
		for (const name of ['additionalFields', 'updateFields']) {
			const options = collection(name);
			expect(options.find((option) => option.name === 'password')?.typeOptions?.password).toBe(true);
			const names = options.map((option) => option.displayName);
			expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
		}
	});
});

describe('QR Code: custom domains (loadOptions)', () => {
	it('lists the verified domains by hostname', async () => {
		api()
			.get('/api/v1/domains')
			.reply(200, {
				data: [
					{ id: 'dom_2', hostname: 'links.acme.com', status: 'verified' },
					{ id: 'dom_1', hostname: 'new.acme.com', status: 'pending' },
					{ id: 'dom_3', hostname: 'go.acme.com', status: 'verified' },
				],
			});
		const { context } = createFakeContext({ properties: node.description.properties, items: [{}], credentials });
		const options = await node.methods.loadOptions.getDomains.call(context as unknown as ILoadOptionsFunctions);
		expect(options).toEqual([
			{ name: 'go.acme.com', value: 'go.acme.com' },
			{ name: 'links.acme.com', value: 'links.acme.com' },
		]);
		const domain = (node.description.properties.find((property) => property.name === 'additionalFields')?.options ?? []).find(
			(option) => (option as { name: string }).name === 'domain',
		);
		expect(domain).toMatchObject({ type: 'options', typeOptions: { loadOptionsMethod: 'getDomains' } });
	});
});
