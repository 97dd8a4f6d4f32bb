import nock from 'nock';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Credentials } from './contexts';

export const BASE_URL = 'https://qrflow.test';
/** A made-up key in the qrflow format (not a real credential). */
export const API_KEY = `qr_live_${'test'.repeat(8)}`;
export const credentials: Credentials = { apiKey: API_KEY, baseUrl: BASE_URL };

/** A QR object shaped like the contract's. */
export function qrCode(overrides: Record<string, unknown> = {}) {
	return {
		id: 'qr_8fK2mP0aZx91',
		name: 'Spring flyer',
		type: 'url',
		mode: 'dynamic',
		destination_url: 'https://example.com/spring',
		content: null,
		short_code: 'aB3dE9x',
		short_url: 'https://qr.example.com/r/aB3dE9x',
		status: 'active',
		tags: ['spring'],
		style: { foreground: '#000000', background: '#ffffff', margin: 4, error_correction: 'M' },
		created_at: '2026-11-23T10:00:00.000Z',
		updated_at: '2026-11-23T10:00:00.000Z',
		scan_count: 0,
		...overrides,
	};
}

export function errorBody(code: string, message: string, details?: Array<{ field: string; message: string }>) {
	return { error: { code, message, ...(details ? { details } : {}) }, request_id: 'req_test123' };
}

/** The qrflow API as nock sees it, with the Bearer header required on every call. */
export function api() {
	return nock(BASE_URL, { reqheaders: { authorization: `Bearer ${API_KEY}` } });
}

/** Blocks real network calls and checks that every expected call was made. */
export function useNock() {
	beforeAll(() => {
		nock.disableNetConnect();
	});
	afterEach(() => {
		const pending = nock.pendingMocks();
		nock.cleanAll();
		expect(pending).toEqual([]);
	});
	afterAll(() => {
		nock.enableNetConnect();
	});
}
