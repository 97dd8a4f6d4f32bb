import type { IBinaryData } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { runNode } from '../../../../test/harness/declarative';
import { api, credentials, qrCode, useNock } from '../../../../test/harness/fixtures';
import { QrFlow } from '../../QrFlow.node';
import { logoContentType } from '../../shared/logo';

const node = new QrFlow();
useNock();

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR')]);
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>';
const binary = (bytes: Buffer, mimeType = 'application/octet-stream'): Record<string, IBinaryData> => ({
	logo: { data: bytes.toString('base64'), mimeType, fileName: 'logo' },
});
const withLogo = qrCode({ style: { foreground: '#000000', background: '#ffffff', margin: 4, error_correction: 'H' } });

/** Records the bytes and content type of the next logo upload. */
function expectUpload(received: { body?: Buffer; type?: string }, reply: unknown = { data: withLogo }) {
	return api()
		.put('/api/v1/qr/qr_8fK2mP0aZx91/logo')
		.reply(200, function (_uri, body) {
			const text = String(body);
			received.body = /^(?:[0-9a-f]{2})+$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'utf8');
			received.type = String(this.req.headers['content-type']);
			return reply;
		});
}

describe('QR Code: logo from a binary property', () => {
	it('tells PNG and SVG apart by their bytes', () => {
		expect(logoContentType(PNG)).toBe('image/png');
		expect(logoContentType(Buffer.from(SVG))).toBe('image/svg+xml');
		expect(logoContentType(Buffer.from('GIF89a'))).toBeUndefined();
	});

	it('Create uploads the PNG of the item after creating the code and outputs the code with it', async () => {
		api().post('/api/v1/qr').reply(201, { data: qrCode() });
		const received: { body?: Buffer; type?: string } = {};
		expectUpload(received);
		const { output } = await runNode(node, {
			items: [{ resource: 'qrCode', operation: 'create', name: 'A', destinationUrl: 'https://a.example', additionalFields: { logoBinaryProperty: 'logo' } }],
			binary: [binary(PNG)],
			credentials,
		});
		expect(received).toEqual({ body: PNG, type: 'image/png' });
		expect(output[0]).toEqual([{ json: withLogo, pairedItem: { item: 0 } }]);
	});

	it('Update puts an SVG logo, and reads the code back when the logo answer is not the code', async () => {
		api().patch('/api/v1/qr/qr_8fK2mP0aZx91').reply(200, { data: qrCode() });
		const received: { body?: Buffer; type?: string } = {};
		expectUpload(received, { data: { id: 'qr_8fK2mP0aZx91', logo: true } });
		api().get('/api/v1/qr/qr_8fK2mP0aZx91').reply(200, { data: withLogo });
		const { output } = await runNode(node, {
			items: [{ resource: 'qrCode', operation: 'update', qrCodeId: 'qr_8fK2mP0aZx91', updateFields: { logoBinaryProperty: 'logo' } }],
			binary: [binary(Buffer.from(SVG), 'image/svg+xml')],
			credentials,
		});
		expect(received.type).toBe('image/svg+xml');
		expect(received.body?.toString('utf8')).toBe(SVG);
		expect(output[0]?.[0]?.json).toEqual(withLogo);
	});

	it('Update removes the logo', async () => {
		api().patch('/api/v1/qr/qr_8fK2mP0aZx91').reply(200, { data: withLogo });
		api().delete('/api/v1/qr/qr_8fK2mP0aZx91/logo').reply(200, { data: qrCode() });
		const { output } = await runNode(node, {
			items: [{ resource: 'qrCode', operation: 'update', qrCodeId: 'qr_8fK2mP0aZx91', updateFields: { removeLogo: true } }],
			credentials,
		});
		expect(output[0]?.[0]?.json).toEqual(qrCode());
	});

	it('refuses a missing binary field, a file that is not PNG or SVG, and one over 256 KB; Continue On Fail keeps the item', async () => {
		const update = { resource: 'qrCode', operation: 'update', qrCodeId: 'qr_8fK2mP0aZx91', updateFields: { logoBinaryProperty: 'logo' } };
		api().patch('/api/v1/qr/qr_8fK2mP0aZx91').times(4).reply(200, { data: qrCode() });
		await expect(runNode(node, { items: [update], credentials })).rejects.toThrow(/binary file 'logo'/);
		await expect(runNode(node, { items: [update], binary: [binary(Buffer.from('GIF89a'))], credentials })).rejects.toThrow('The binary field "logo" is not a PNG or SVG image');
		await expect(runNode(node, { items: [update], binary: [binary(Buffer.concat([PNG, Buffer.alloc(300 * 1024)]))], credentials })).rejects.toThrow(
			/qrflow takes at most 256 KB/,
		);
		const { output } = await runNode(node, { items: [update], binary: [binary(Buffer.from('GIF89a'))], credentials, continueOnFail: true });
		expect(output[0]?.[0]?.error?.message).toBe('The binary field "logo" is not a PNG or SVG image');
		expect(output[0]?.[0]?.pairedItem).toEqual({ item: 0 });
	});
});
