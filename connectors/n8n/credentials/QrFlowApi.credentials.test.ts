import { describe, expect, it } from 'vitest';
import { authenticate } from '../test/harness/contexts';
import { evaluateDeep } from '../test/harness/expressions';
import { QrFlowApi } from './QrFlowApi.credentials';

const credential = new QrFlowApi();

describe('QRflow API credentials', () => {
	it('keeps the API key in a password field', () => {
		const apiKey = credential.properties.find((property) => property.name === 'apiKey');
		expect(apiKey?.typeOptions?.password).toBe(true);
	});

	it('authenticates with a Bearer header built from the API key', () => {
		const options = authenticate({ apiKey: 'qr_live_example', baseUrl: 'https://qr.example.com' }, { url: '/x' });
		expect(options.headers).toEqual({ Authorization: 'Bearer qr_live_example' });
	});

	it('tests the connection with GET /api/v1/me on the configured base URL', () => {
		const request = evaluateDeep(credential.test.request, {
			parameters: {},
			credentials: { baseUrl: 'https://qr.example.com' },
		});
		expect(request).toEqual({ baseURL: 'https://qr.example.com', url: '/api/v1/me', method: 'GET' });
	});
});
