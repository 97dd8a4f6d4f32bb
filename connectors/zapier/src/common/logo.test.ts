import nock from 'nock';
import { describe, expect, it } from 'vitest';

import { qrCodeSample } from './qr-fields.js';
import { logoContentType } from './logo.js';
import { app, api, run, authData, useNock } from '../test-support/harness.js';

useNock();

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('0000000d49484452', 'hex')]);
const SVG = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle r="4" cx="5" cy="5"/></svg>';
const FILES = 'https://files.zapier-test.example';
const withLogo = { ...qrCodeSample, logo: { content_type: 'image/png' as const, bytes: 16, updated_at: '2026-11-23T10:01:00.000Z' } };

/** The logo the server received: its bytes and content type. */
function expectLogoUpload(received: { body?: Buffer; type?: string }, reply: unknown = { data: withLogo }) {
  return api()
    .put('/api/v1/qr/qr_8fK2mP0aZx91/logo')
    .reply(200, function (_uri, body) {
      const text = String(body);
      received.body = /^(?:[0-9a-f]{2})+$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'utf8');
      received.type = String(this.req.headers['content-type']);
      return reply;
    });
}

describe('logo content type', () => {
  it('tells PNG and SVG apart by their bytes and refuses anything else', () => {
    expect(logoContentType(PNG)).toBe('image/png');
    expect(logoContentType(Buffer.from(`\uFEFF  ${SVG}`))).toBe('image/svg+xml');
    expect(logoContentType(Buffer.from('GIF89a....'))).toBeUndefined();
    expect(logoContentType(Buffer.from('<html><body>not an svg</body></html>'))).toBeUndefined();
  });
});

describe('the logo on Create and Update QR Code', () => {
  it('create downloads the file (without the API key) and puts it on the new code with PUT', async () => {
    const files = nock(FILES, { badheaders: ['authorization'] }).get('/logo.png').reply(200, PNG, { 'Content-Type': 'application/octet-stream' });
    api().post('/api/v1/qr').reply(201, { data: qrCodeSample });
    const received: { body?: Buffer; type?: string } = {};
    expectLogoUpload(received);
    const result = await run(app.creates.create_qr_code.operation.perform, {
      authData,
      inputData: { name: 'Spring flyer', type: 'url', destination_url: 'https://example.com/spring', logo: `${FILES}/logo.png` },
    });
    expect(files.isDone()).toBe(true);
    expect(received.type).toBe('image/png');
    expect(received.body?.equals(PNG)).toBe(true);
    expect(result).toEqual(withLogo);
  });

  it('update with only a new SVG logo sends no PATCH, and reads the code back when the logo answer is not the code', async () => {
    nock(FILES).get('/brand.svg').reply(200, SVG, { 'Content-Type': 'image/svg+xml' });
    const received: { body?: Buffer; type?: string } = {};
    expectLogoUpload(received, { data: { id: 'qr_8fK2mP0aZx91', logo: true } });
    api().get('/api/v1/qr/qr_8fK2mP0aZx91').reply(200, { data: withLogo });
    const result = await run(app.creates.update_qr_code.operation.perform, { authData, inputData: { qr_id: 'qr_8fK2mP0aZx91', logo: `${FILES}/brand.svg` } });
    expect(received.type).toBe('image/svg+xml');
    expect(received.body?.toString('utf8')).toBe(SVG);
    expect(result).toEqual(withLogo);
  });

  it('update removes the logo with DELETE after the other changes', async () => {
    api().patch('/api/v1/qr/qr_8fK2mP0aZx91', { name: 'Renamed' }).reply(200, { data: { ...withLogo, name: 'Renamed' } });
    api().delete('/api/v1/qr/qr_8fK2mP0aZx91/logo').reply(200, { data: { ...qrCodeSample, name: 'Renamed' } });
    const result = await run(app.creates.update_qr_code.operation.perform, { authData, inputData: { qr_id: 'qr_8fK2mP0aZx91', name: 'Renamed', remove_logo: true } });
    expect(result).toMatchObject({ name: 'Renamed', logo: null });
  });

  it('refuses a file that is not PNG or SVG, or larger than 256 KB, without uploading it', async () => {
    nock(FILES).get('/photo.gif').reply(200, Buffer.from('GIF89a....'));
    nock(FILES).get('/huge.png').reply(200, Buffer.concat([PNG, Buffer.alloc(300 * 1024)]));
    const attempt = (logo: string) => run(app.creates.update_qr_code.operation.perform, { authData, inputData: { qr_id: 'qr_8fK2mP0aZx91', logo } });
    await expect(attempt(`${FILES}/photo.gif`)).rejects.toThrow('The logo must be a PNG or SVG file.');
    await expect(attempt(`${FILES}/huge.png`)).rejects.toThrow(/qrflow takes at most 256 KB/);
    await expect(attempt('just some text')).rejects.toThrow(/Logo must be a file/);
  });
});
