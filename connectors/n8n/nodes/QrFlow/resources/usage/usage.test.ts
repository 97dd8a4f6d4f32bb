import { describe, expect, it } from 'vitest';
import { runNode } from '../../../../test/harness/declarative';
import { api, credentials, errorBody, useNock } from '../../../../test/harness/fixtures';
import { QrFlow } from '../../QrFlow.node';

const node = new QrFlow();
useNock();

describe('Usage: Get', () => {
	it('returns the usage of the current month', async () => {
		const usage = {
			period: { start: '2026-11-01T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z' },
			api_calls: { used: 12, limit: 100000 },
			image_credits: { used: 3, limit: 5000 },
			rate_limit: { per_minute: 600 },
			keys: [{ id: 'key_1', name: 'n8n', prefix: 'qr_live_AbCd', api_calls: 12 }],
		};
		api().get('/api/v1/usage').reply(200, { data: usage });

		const { output } = await runNode(node, { items: [{ resource: 'usage', operation: 'get' }], credentials });

		expect(output[0]).toEqual([{ json: usage, pairedItem: { item: 0 } }]);
	});

	it('an invalid key fails with the server message', async () => {
		api().get('/api/v1/usage').reply(401, errorBody('invalid_api_key', 'The API key is not valid.'));

		await expect(runNode(node, { items: [{ resource: 'usage', operation: 'get' }], credentials })).rejects.toThrow(
			'The API key is not valid.',
		);
	});
});
