import { afterEach, describe, expect, it } from 'vitest';

import { qrCodeSample } from '../common/qr-fields.js';
import { app, api, run, authData, fakeZapierRpc, serverError, useNock } from '../test-support/harness.js';

useNock();

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

/** Reads the payload that z.dehydrateFile put into its `hydrate|||...|||hydrate` pointer. */
function hydrationPayload(pointer: string) {
  const match = /^hydrate\|\|\|(.*)\|\|\|hydrate$/.exec(pointer);
  if (!match?.[1]) throw new Error(`not a hydration pointer: ${pointer}`);
  return JSON.parse(match[1]) as { type: string; method: string; bundle: Record<string, unknown> };
}

describe('Get QR Code Image', () => {
  afterEach(() => {
    delete process.env.ZAPIER_DEPLOY_KEY;
  });

  it('returns the image as a file pointer, without spending an image credit yet', async () => {
    api().get('/api/v1/qr/qr_8fK2mP0aZx91').reply(200, { data: qrCodeSample });
    const result = (await run(app.creates.get_qr_code_image.operation.perform, {
      authData,
      inputData: { qr_id: 'qr_8fK2mP0aZx91', format: 'png', size: 1024 },
    })) as Record<string, unknown>;
    expect(result).toMatchObject({ id: 'qr_8fK2mP0aZx91', format: 'png', size: 1024, filename: 'spring-flyer.png', content_type: 'image/png' });
    const payload = hydrationPayload(String(result.file));
    expect(payload).toMatchObject({
      type: 'file',
      method: 'hydrators.downloadQrImage',
      bundle: { qr_id: 'qr_8fK2mP0aZx91', format: 'png', size: 1024, filename: 'spring-flyer.png' },
    });
  });

  it('keeps the size within 64..2048 and defaults to a 512 px PNG', async () => {
    api().get('/api/v1/qr/qr_8fK2mP0aZx91').times(2).reply(200, { data: qrCodeSample });
    const big = await run(app.creates.get_qr_code_image.operation.perform, {
      authData,
      inputData: { qr_id: 'qr_8fK2mP0aZx91', format: 'svg', size: 99999 },
    });
    const plain = await run(app.creates.get_qr_code_image.operation.perform, {
      authData,
      inputData: { qr_id: 'qr_8fK2mP0aZx91' },
    });
    expect(big).toMatchObject({ format: 'svg', size: 2048, filename: 'spring-flyer.svg', content_type: 'image/svg+xml' });
    expect(plain).toMatchObject({ format: 'png', size: 512 });
  });

  it('the hydrator downloads the image with format and size and stashes it as a file', async () => {
    const rpc = fakeZapierRpc();
    api()
      .get('/api/v1/qr/qr_8fK2mP0aZx91/image')
      .query({ format: 'png', size: '1024' })
      .reply(200, PNG, { 'Content-Type': 'image/png' });
    const url = await run(app.hydrators.downloadQrImage, {
      authData,
      inputData: { qr_id: 'qr_8fK2mP0aZx91', format: 'png', size: 1024, filename: 'spring-flyer.png' },
    });
    expect(url).toBe(rpc.uploadUrl);
    expect(rpc.calls).toEqual(['get_presigned_upload_post_data']);
    expect(rpc.uploads).toHaveLength(1);
    const form = rpc.uploads[0]?.body ?? Buffer.alloc(0);
    expect(form.toString('latin1')).toContain('name="file"; filename="spring-flyer.png"\r\nContent-Type: image/png');
    expect(form.includes(PNG)).toBe(true);
  });

  it('offers PDF, sized in millimetres, as a file of type application/pdf', async () => {
    api().get('/api/v1/qr/qr_8fK2mP0aZx91').times(2).reply(200, { data: qrCodeSample });
    const pdf = (await run(app.creates.get_qr_code_image.operation.perform, {
      authData,
      inputData: { qr_id: 'qr_8fK2mP0aZx91', format: 'pdf', size_mm: 9999 },
    })) as Record<string, unknown>;
    expect(pdf).toMatchObject({ format: 'pdf', size_mm: 500, filename: 'spring-flyer.pdf', content_type: 'application/pdf' });
    expect(hydrationPayload(String(pdf.file)).bundle).toMatchObject({ format: 'pdf', size_mm: 500, filename: 'spring-flyer.pdf' });
    const plain = await run(app.creates.get_qr_code_image.operation.perform, { authData, inputData: { qr_id: 'qr_8fK2mP0aZx91', format: 'pdf' } });
    expect(plain).toMatchObject({ format: 'pdf', size_mm: null });
  });

  it('the hydrator asks for a PDF without a pixel size and stashes it as application/pdf', async () => {
    const rpc = fakeZapierRpc();
    const PDF = Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n%%EOF\n', 'latin1');
    api()
      .get('/api/v1/qr/qr_8fK2mP0aZx91/image')
      .query({ format: 'pdf', size_mm: '40' })
      .matchHeader('accept', 'application/pdf')
      .reply(200, PDF, { 'Content-Type': 'application/pdf' });
    await run(app.hydrators.downloadQrImage, {
      authData,
      inputData: { qr_id: 'qr_8fK2mP0aZx91', format: 'pdf', size: 512, size_mm: 40, filename: 'spring-flyer.pdf' },
    });
    const form = rpc.uploads[0]?.body ?? Buffer.alloc(0);
    expect(form.toString('latin1')).toContain('name="file"; filename="spring-flyer.pdf"\r\nContent-Type: application/pdf');
    expect(form.includes(PDF)).toBe(true);
  });

  it('the hydrator halts when the month’s image credits are spent', async () => {
    fakeZapierRpc();
    api()
      .get('/api/v1/qr/qr_8fK2mP0aZx91/image')
      .query(true)
      .reply(429, serverError('image_credits_exhausted', 'No image credits left this month.'), { 'Retry-After': '3600' });
    await expect(
      run(app.hydrators.downloadQrImage, {
        authData,
        inputData: { qr_id: 'qr_8fK2mP0aZx91', format: 'png', size: 512, filename: 'x.png' },
      }),
    ).rejects.toMatchObject({ name: 'HaltedError', message: expect.stringContaining('No image credits left this month.') });
  });
});
