import { describe, expect, it } from 'vitest';

import { qrCodeSample } from '../common/qr-fields.js';
import { app, api, run, authData, serverError, useNock } from '../test-support/harness.js';
import { chunkIdempotencyKey, type BulkCreateResult } from './create_qr_codes_bulk.js';

useNock();

const operation = app.creates.create_qr_codes_bulk.operation;

const line = (n: number) => ({ code_name: `Store ${n}`, code_destination_url: `https://example.com/store/${n}` });
const created = (index: number, n: number) => ({
  index,
  status: 201,
  data: { ...qrCodeSample, id: `qr_store${n}`, name: `Store ${n}`, destination_url: `https://example.com/store/${n}`, short_url: `https://qr.example.com/r/s${n}` },
});

/** Answers every bulk call with a created code per item, recording each call's items and Idempotency-Key. */
function expectBulk(calls: { key: string; items: Record<string, unknown>[] }[], times = 1) {
  return api()
    .post('/api/v1/qr/bulk')
    .times(times)
    .reply(200, function (_uri, body) {
      const { items } = body as { items: Record<string, unknown>[] };
      calls.push({ key: String(this.req.headers['idempotency-key']), items });
      return { data: items.map((item, index) => created(index, Number(String(item.name).split(' ')[1]))) };
    });
}

describe('Create QR Codes (Bulk)', () => {
  it('sends the lines with the shared settings and returns one result per line', async () => {
    const calls: { key: string; items: Record<string, unknown>[] }[] = [];
    expectBulk(calls);
    const result = await run<BulkCreateResult>(operation.perform, {
      authData,
      inputData: {
        codes: [{ ...line(1), code_tags: 'north, poster' }, line(2)],
        tags: ['spring'],
        domain: 'go.acme.com',
        style_margin: 2,
      },
    });
    expect(calls[0]?.items).toEqual([
      { name: 'Store 1', type: 'url', mode: 'dynamic', destination_url: 'https://example.com/store/1', tags: ['spring', 'north', 'poster'], style: { margin: 2 }, domain: 'go.acme.com' },
      { name: 'Store 2', type: 'url', mode: 'dynamic', destination_url: 'https://example.com/store/2', tags: ['spring'], style: { margin: 2 }, domain: 'go.acme.com' },
    ]);
    expect(result).toMatchObject({ total: 2, created: 2, failed: 0, created_ids: ['qr_store1', 'qr_store2'] });
    expect(result.codes.map((code) => [code.index, code.ok, code.short_url])).toEqual([
      [0, true, 'https://qr.example.com/r/s1'],
      [1, true, 'https://qr.example.com/r/s2'],
    ]);
  });

  it('takes a single hand-typed line given as top-level child values', async () => {
    const calls: { key: string; items: Record<string, unknown>[] }[] = [];
    expectBulk(calls);
    const result = await run<BulkCreateResult>(operation.perform, { authData, inputData: line(7) });
    expect(calls[0]?.items).toEqual([{ name: 'Store 7', type: 'url', mode: 'dynamic', destination_url: 'https://example.com/store/7' }]);
    expect(result.created).toBe(1);
  });

  it('splits 250 lines into calls of 100, 100 and 50, keeping the line numbers across chunks', async () => {
    const calls: { key: string; items: Record<string, unknown>[] }[] = [];
    expectBulk(calls, 3);
    const codes = Array.from({ length: 250 }, (_, n) => line(n));
    const result = await run<BulkCreateResult>(operation.perform, { authData, inputData: { codes } });
    expect(calls.map((call) => call.items.length)).toEqual([100, 100, 50]);
    expect(new Set(calls.map((call) => call.key)).size).toBe(3);
    expect(result.codes).toHaveLength(250);
    expect(result.codes[249]).toMatchObject({ index: 249, id: 'qr_store249' });
  });

  it('a retried step sends every chunk under the key it had the first time; other input gets other keys', async () => {
    const calls: { key: string; items: Record<string, unknown>[] }[] = [];
    expectBulk(calls, 6);
    const codes = Array.from({ length: 150 }, (_, n) => line(n));
    await run(operation.perform, { authData, inputData: { codes } });
    await run(operation.perform, { authData, inputData: { codes } });
    await run(operation.perform, { authData, inputData: { codes: codes.slice(1) } });
    const [first, second, again1, again2, other1, other2] = calls.map((call) => call.key);
    expect([again1, again2]).toEqual([first, second]);
    expect(first).not.toBe(second);
    expect([other1, other2]).not.toContain(first);
    expect([other1, other2]).not.toContain(second);
    expect(first).toMatch(/^zapier-create_qr_codes_bulk-[0-9a-f]{64}-part1$/);
  });

  it('uses a mapped Idempotency Key per chunk, hashing one that would be too long', async () => {
    expect(chunkIdempotencyKey('zapier-create_qr_codes_bulk-import-7', 1)).toBe('zapier-create_qr_codes_bulk-import-7-part2');
    expect(chunkIdempotencyKey(`zapier-create_qr_codes_bulk-${'x'.repeat(250)}`, 0)).toMatch(/^zapier-create_qr_codes_bulk-[0-9a-f]{64}$/);
    api().post('/api/v1/qr/bulk').matchHeader('idempotency-key', 'zapier-create_qr_codes_bulk-import-7-part1').reply(200, { data: [created(0, 1)] });
    await run(operation.perform, { authData, inputData: { codes: [line(1)], idempotency_key: 'import-7' } });
  });

  it('reports refused lines with the server’s reason while keeping the created ones', async () => {
    api()
      .post('/api/v1/qr/bulk')
      .reply(200, {
        data: [
          created(0, 1),
          { index: 1, status: 400, error: { code: 'validation_error', message: 'The request body is invalid.', details: [{ field: 'destination_url', message: 'must be an absolute http or https URL' }] } },
        ],
      });
    const result = await run<BulkCreateResult>(operation.perform, {
      authData,
      inputData: { codes: [line(1), { code_name: 'Broken', code_destination_url: 'nope' }] },
    });
    expect(result).toMatchObject({ total: 2, created: 1, failed: 1 });
    expect(result.codes[1]).toEqual({
      index: 1,
      status: 400,
      ok: false,
      id: null,
      name: 'Broken',
      destination_url: 'nope',
      short_url: null,
      error_code: 'validation_error',
      error_message: 'The request body is invalid. (destination_url: must be an absolute http or https URL)',
    });
  });

  it('fails the step when no line was created, and halts when the allowance is spent', async () => {
    api()
      .post('/api/v1/qr/bulk')
      .reply(200, { data: [{ index: 0, status: 400, error: { code: 'validation_error', message: 'The request body is invalid.' } }] });
    await expect(run(operation.perform, { authData, inputData: { codes: [line(1)] } })).rejects.toThrow(/None of the 1 QR codes was created\. Line 1: The request body is invalid\./);

    api()
      .post('/api/v1/qr/bulk')
      .reply(200, { data: [0, 1].map((index) => ({ index, status: 429, error: { code: 'monthly_quota_exceeded', message: 'The monthly API allowance is spent.' } })) });
    await expect(run(operation.perform, { authData, inputData: { codes: [line(1), line(2)] } })).rejects.toMatchObject({ name: 'HaltedError' });
  });

  it('refuses an empty batch before calling the server, and maps a refused call like any other', async () => {
    await expect(run(operation.perform, { authData, inputData: { codes: [] } })).rejects.toThrow(/at least one line/);
    api().post('/api/v1/qr/bulk').reply(403, serverError('insufficient_scope', 'This API key lacks the qr:write scope.'));
    await expect(run(operation.perform, { authData, inputData: { codes: [line(1)] } })).rejects.toThrow(/lacks the qr:write scope/);
  });
});
