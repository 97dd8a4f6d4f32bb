import { describe, expect, it } from 'vitest';
import { runNode } from '../../../../test/harness/declarative';
import { api, credentials, errorBody, useNock } from '../../../../test/harness/fixtures';
import { QrFlow } from '../../QrFlow.node';

const node = new QrFlow();
useNock();

const analytics = {
	qr_id: 'qr_1',
	from: '2026-10-24T00:00:00.000Z',
	to: '2026-11-23T00:00:00.000Z',
	interval: 'week',
	tz: 'UTC',
	total_scans: 3,
	unique_scans: 2,
	timeseries: [{ period: '2026-11-16', scans: 3, unique_scans: 2 }],
	countries: [{ value: 'US', scans: 3 }],
	devices: [],
	os: [],
	browsers: [],
	referrers: [],
};

describe('Analytics: Get', () => {
	it('asks for the last 30 days by day unless told otherwise', async () => {
		let query: Record<string, string> = {};
		api()
			.get('/api/v1/qr/qr_1/analytics')
			.query((actual) => {
				query = actual as Record<string, string>;
				return true;
			})
			.reply(200, { data: analytics });

		const { output } = await runNode(node, {
			items: [{ resource: 'analytics', operation: 'get', qrCodeId: 'qr_1' }],
			credentials,
		});

		expect(query.interval).toBe('day');
		const days = (Date.parse(query.to ?? '') - Date.parse(query.from ?? '')) / 86_400_000;
		expect(days).toBeCloseTo(30, 3);
		expect(output[0]?.[0]?.json).toEqual(analytics);
	});

	it('sends a custom range, the interval, the time zone and the bot switch', async () => {
		api()
			.get('/api/v1/qr/qr_1/analytics')
			.query({
				from: '2026-11-01T00:00:00.000Z',
				to: '2026-11-15T00:00:00.000Z',
				interval: 'week',
				tz: 'Europe/Berlin',
				include_bots: 'true',
			})
			.reply(200, { data: analytics });

		const { output } = await runNode(node, {
			items: [
				{
					resource: 'analytics',
					operation: 'get',
					qrCodeId: 'qr_1',
					range: 'custom',
					from: '2026-11-01T00:00:00.000Z',
					to: '2026-11-15T00:00:00.000Z',
					interval: 'week',
					options: { timezone: 'Europe/Berlin', includeBots: true },
				},
			],
			credentials,
		});
		expect(output[0]?.[0]?.json.total_scans).toBe(3);
	});

	it('a 7-day preset spans seven days', async () => {
		let query: Record<string, string> = {};
		api()
			.get('/api/v1/qr/qr_1/analytics')
			.query((actual) => {
				query = actual as Record<string, string>;
				return true;
			})
			.reply(200, { data: analytics });

		await runNode(node, {
			items: [{ resource: 'analytics', operation: 'get', qrCodeId: 'qr_1', range: 'last7Days' }],
			credentials,
		});
		expect((Date.parse(query.to ?? '') - Date.parse(query.from ?? '')) / 86_400_000).toBeCloseTo(7, 3);
	});

	it('outputs the smart-code breakdowns (variants, regions, cities) as the server answers them', async () => {
		const smart = {
			...analytics,
			variants: [{ value: 'https://example.com/a', scans: 2 }],
			regions: [{ value: 'Bavaria', scans: 3 }],
			cities: [{ value: 'Munich', scans: 3 }],
		};
		api().get('/api/v1/qr/qr_1/analytics').query(true).reply(200, { data: smart });
		const { output } = await runNode(node, { items: [{ resource: 'analytics', operation: 'get', qrCodeId: 'qr_1' }], credentials });
		expect(output[0]?.[0]?.json).toMatchObject({ variants: smart.variants, regions: smart.regions, cities: smart.cities });
	});

	it('a key without analytics:read fails with the server message', async () => {
		api()
			.get('/api/v1/qr/qr_1/analytics')
			.query(true)
			.reply(403, errorBody('insufficient_scope', 'This API key lacks the analytics:read scope.'));

		await expect(
			runNode(node, { items: [{ resource: 'analytics', operation: 'get', qrCodeId: 'qr_1' }], credentials }),
		).rejects.toThrow('This API key lacks the analytics:read scope.');
	});
});
