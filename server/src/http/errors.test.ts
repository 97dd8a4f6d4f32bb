import type { Request, Response } from 'express';
import pino from 'pino';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { expectError } from '../../../test/helpers/errors.js';
import {
  AuthenticationError, ConflictError, GoneError, NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError, PermissionError, RateLimitError, UnavailableError, ValidationError,
  type AppError,
} from '../errors.js';
import { errorHandler } from './errors.js';

describe('the error model over HTTP', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await server.cleanup();
  });

  it.each([
    ['GET', '/nowhere'],
    ['GET', '/api/v1/nothing-here'],
    ['POST', '/api/v1/qr/qr_x/nothing'],
    ['DELETE', '/api/v1'],
  ])('answers an unknown route (%s %s) with 404 in the error shape', async (method, path) => {
    const body = await expectError(await server.request(method, path), 404, 'not_found');
    expect(body.error.message).toContain(`${method} ${path}`);
    expect(Object.keys(body).sort()).toEqual(['error', 'request_id']);
    expect(body.error).not.toHaveProperty('details');
  });

  it.each([
    ['POST', '/api/v1/me', 'GET, HEAD'],
    ['DELETE', '/api/v1/auth/login', 'POST'],
    ['PATCH', '/api/v1/qr', 'GET, HEAD, POST'],
  ])('answers a known path with a method it does not take (%s %s) with 405 and Allow', async (method, path, allow) => {
    const response = await server.request(method, path);
    expect(response.headers.get('allow')).toBe(allow);
    const body = await expectError(response, 405, 'method_not_allowed');
    expect(body.error.message).toContain(method);
  });

  it('answers OPTIONS on a known path with 204 and Allow, and on an unknown one with 404', async () => {
    const known = await server.request('OPTIONS', '/api/v1/qr/qr_anything');
    expect(known.status).toBe(204);
    expect(known.headers.get('allow')).toBe('GET, HEAD, PUT, PATCH, DELETE');
    await expectError(await server.request('OPTIONS', '/api/v1/nothing-here'), 404, 'not_found');
  });

  it('matches paths as Express does: any case, an optional trailing slash, percent-decoded params', async () => {
    expect((await server.request('GET', '/API/V1/ME/')).status).toBe(401);
    await expectError(await server.request('GET', '/api/v1/qr/%E0%A4%A'), 400, 'invalid_path');
  });

  it('gives every response its own request id, and keeps a safe X-Request-Id sent by the client', async () => {
    const first = await expectError(await server.request('GET', '/nowhere'), 404, 'not_found');
    const second = await expectError(await server.request('GET', '/nowhere'), 404, 'not_found');
    expect(first.request_id).not.toBe(second.request_id);

    const kept = await server.request('GET', '/nowhere', { headers: { 'x-request-id': 'zapier-trace-12345' } });
    expect((await expectError(kept, 404, 'not_found')).request_id).toBe('zapier-trace-12345');

    const unsafe = await server.request('GET', '/nowhere', { headers: { 'x-request-id': 'bad id <script>' } });
    expect((await expectError(unsafe, 404, 'not_found')).request_id).toMatch(/^req_[0-9A-Za-z]{16}$/);
  });

  it('sends the request id on successful responses too', async () => {
    const { secret } = await server.createKey();
    const response = await server.request('GET', '/api/v1/me', { token: secret });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const response = await server.request('POST', '/api/v1/auth/login', { body: '{"email": "a@example.test", "password": ' });
    const body = await expectError(response, 400, 'invalid_json');
    expect(body.error.message).toBe('The request body is not valid JSON.');
  });

  it('answers a body over 1 MB with 413 payload_too_large', async () => {
    const big = JSON.stringify({ email: 'a@example.test', password: 'x'.repeat(1024 * 1024) });
    const body = await expectError(await server.request('POST', '/api/v1/auth/login', { body: big }), 413, 'payload_too_large');
    expect(body.error.message).toMatch(/1 MB/);
  });

  it('reads a body just under 1 MB (then validates it)', async () => {
    const almost = JSON.stringify({ email: 'a@example.test', password: 'x'.repeat(1000 * 1000) });
    expect(Buffer.byteLength(almost)).toBeLessThan(1024 * 1024);
    const body = await expectError(await server.request('POST', '/api/v1/auth/login', { body: almost }), 400, 'validation_error');
    expect(body.error.details?.map((d) => d.field)).toEqual(['password']);
  });

  it('answers unknown body fields with 400 and one detail naming them', async () => {
    const response = await server.request('POST', '/api/v1/auth/login', { body: { email: 'a@example.test', password: 'whatever-password', remember_me: true } });
    const body = await expectError(response, 400, 'validation_error');
    expect(body.error.details).toEqual([{ field: 'remember_me', message: expect.stringContaining('Unknown field') }]);
  });

  it('answers several invalid fields with one detail each', async () => {
    const response = await server.request('POST', '/api/v1/auth/login', { body: { email: 5, password: '' } });
    const body = await expectError(response, 400, 'validation_error');
    expect(body.error.details?.map((d) => d.field).sort()).toEqual(['email', 'password']);
  });

  it('answers an unexpected error with 500 internal_error, without its message or stack, and logs it', async () => {
    const failure = new Error('disk on fire: /var/secret/path');
    vi.spyOn(server.running.store, 'findUnique').mockRejectedValueOnce(failure);
    const response = await server.request('POST', '/api/v1/auth/login', { body: { email: 'someone@example.test', password: 'some-password-1' } });
    const text = await response.clone().text();
    const body = await expectError(response, 500, 'internal_error');
    expect(body.error.message).toContain(body.request_id);
    expect(text).not.toContain('disk on fire');
    expect(text).not.toContain('/var/secret/path');
    expect(text).not.toMatch(/\bat .*:\d+:\d+/);
    expect(text).not.toContain('stack');

    const logged = server.logs().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    const entry = logged.find((line) => line.msg === 'unhandled error' && line.request_id === body.request_id);
    expect(entry).toBeDefined();
    expect(JSON.stringify(entry)).toContain('disk on fire');
  });
});

describe('errorHandler', () => {
  function fakeExchange() {
    const sent: { status?: number; body?: unknown; headers: Record<string, string> } = { headers: {} };
    const res = {
      headersSent: false,
      status(code: number) {
        sent.status = code;
        return this;
      },
      json(body: unknown) {
        sent.body = body;
        return this;
      },
      setHeader(name: string, value: string) {
        sent.headers[name] = value;
      },
    } as unknown as Response;
    const req = { requestId: 'req_test', method: 'GET', path: '/x' } as unknown as Request;
    return { req, res, sent };
  }

  const silent = pino({ level: 'silent' });

  it.each<[string, AppError, number]>([
    ['validation', new ValidationError('Bad.', [{ field: 'name', message: 'required' }]), 400],
    ['authentication', new AuthenticationError('invalid_api_key', 'Unknown key.'), 401],
    ['permission', new PermissionError('insufficient_scope', 'Missing scope.'), 403],
    ['not found', new NotFoundError('QR code'), 404],
    ['conflict', new ConflictError('key_revoked', 'Revoked.'), 409],
    ['gone', new GoneError('qr_deleted', 'Deleted.'), 410],
    ['payload too large', new PayloadTooLargeError('payload_too_large', 'Too big.'), 413],
    ['unsupported media type', new UnsupportedMediaTypeError('unsupported_media_type', 'Not an image.'), 415],
    ['rate limit', new RateLimitError('rate_limited', 'Slow down.', 12.2), 429],
    ['unavailable', new UnavailableError('unavailable', 'Later.'), 503],
  ])('maps a %s error to its status with code, message and details', (_name, error, status) => {
    const { req, res, sent } = fakeExchange();
    errorHandler(silent)(error, req, res, () => undefined);
    expect(sent.status).toBe(status);
    expect(sent.body).toEqual({
      error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
      request_id: 'req_test',
    });
  });

  it('sets Retry-After, rounded up to whole seconds, for a rate limit', () => {
    const { req, res, sent } = fakeExchange();
    errorHandler(silent)(new RateLimitError('rate_limited', 'Slow down.', 12.2), req, res, () => undefined);
    expect(sent.headers['Retry-After']).toBe('13');
  });

  it('answers anything unknown with a generic 500 and logs the error', () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, callback) => { lines.push(String(chunk)); callback(); } }));
    const { req, res, sent } = fakeExchange();
    const error = new TypeError("Cannot read properties of undefined (reading 'id')");
    errorHandler(logger)(error, req, res, () => undefined);
    expect(sent.status).toBe(500);
    const body = sent.body as { error: { code: string; message: string } };
    expect(body.error.code).toBe('internal_error');
    expect(JSON.stringify(body)).not.toContain('Cannot read properties');
    expect(lines.join('')).toContain('Cannot read properties');
    expect(lines.join('')).toContain('req_test');
  });

  it('does not answer twice when headers were already sent', () => {
    const { req, res, sent } = fakeExchange();
    (res as { headersSent: boolean }).headersSent = true;
    errorHandler(silent)(new Error('late'), req, res, () => undefined);
    expect(sent.status).toBeUndefined();
    expect(sent.body).toBeUndefined();
  });
});
