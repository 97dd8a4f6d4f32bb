import nock from 'nock';
import { describe, expect, it } from 'vitest';
import type { ZObject } from 'zapier-platform-core';

import { API_KEY, BASE_URL, api, run, authData, serverError, useNock } from './test-support/harness.js';

useNock();

const getMe = (z: ZObject) => z.request({ url: `${BASE_URL}/api/v1/me` });

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the request to fail');
}

describe('beforeRequest', () => {
  it('sends the API key as a Bearer token to the connected server', async () => {
    api().get('/api/v1/me').reply(200, { data: { ok: true } });
    const response = (await run(getMe, { authData })) as { data: unknown };
    expect(response.data).toEqual({ data: { ok: true } });
  });

  it('never sends the API key to any other host', async () => {
    nock('https://elsewhere.example', { badheaders: ['authorization'] }).get('/file').reply(200, 'ok');
    await run((z: ZObject) => z.request({ url: 'https://elsewhere.example/file' }), { authData });
    expect(nock.isDone()).toBe(true);
  });

  it('does not treat a look-alike host as the server', async () => {
    nock('https://qr.example.com.evil.example', { badheaders: ['authorization'] }).get('/x').reply(200, 'ok');
    await run((z: ZObject) => z.request({ url: 'https://qr.example.com.evil.example/x' }), { authData });
    expect(nock.isDone()).toBe(true);
  });
});

describe('afterResponse maps the server error JSON', () => {
  it('401 becomes an auth error that asks to reconnect, in the server’s words', async () => {
    api().get('/api/v1/me').reply(401, serverError('invalid_api_key', 'The API key is not valid.'));
    const error = await failureOf(run(getMe, { authData }));
    expect(error.name).toBe('ExpiredAuthError');
    expect(error.message).toContain('The API key is not valid.');
    expect(error.message).toContain('Reconnect your qrflow account');
    expect(error.message).toContain('req_test123');
    expect(error.message).not.toContain(API_KEY);
  });

  it('401 for a paused key says to resume the key', async () => {
    api().get('/api/v1/me').reply(401, serverError('api_key_paused', 'This API key is paused.'));
    const error = await failureOf(run(getMe, { authData }));
    expect(error.name).toBe('ExpiredAuthError');
    expect(error.message).toMatch(/This API key is paused\. .*resume it in qrflow/);
  });

  it.each([
    ['plan_upgrade_required', /upgrade the workspace plan/],
    ['subscription_inactive', /subscription for this workspace is not active/],
    ['insufficient_scope', /lacks a scope/],
  ])('403 %s gives a clear message', async (code, hint) => {
    api().get('/api/v1/me').reply(403, serverError(code, 'Not allowed.'));
    const error = await failureOf(run(getMe, { authData }));
    expect(error.name).toBe('AppError');
    const parsed = JSON.parse(error.message) as { message: string; code: string; status: number };
    expect(parsed).toMatchObject({ code, status: 403 });
    expect(parsed.message).toMatch(hint);
    expect(parsed.message).toContain('Not allowed.');
  });

  it('429 rate_limited throttles for exactly the server’s Retry-After', async () => {
    api().get('/api/v1/me').reply(429, serverError('rate_limited', 'Too many requests this minute.'), { 'Retry-After': '17' });
    const error = await failureOf(run(getMe, { authData }));
    expect(error.name).toBe('ThrottledError');
    expect(JSON.parse(error.message)).toEqual({ message: 'Too many requests this minute. (request req_test123)', delay: 17 });
  });

  it('429 without Retry-After still throttles, for a minute', async () => {
    api().get('/api/v1/me').reply(429, serverError('rate_limited', 'Slow down.'));
    const error = await failureOf(run(getMe, { authData }));
    expect(error.name).toBe('ThrottledError');
    expect(JSON.parse(error.message)).toMatchObject({ delay: 60 });
  });

  it.each(['monthly_quota_exceeded', 'image_credits_exhausted'])('429 %s halts instead of retrying', async (code) => {
    api().get('/api/v1/me').reply(429, serverError(code, 'The monthly quota is used up.'), { 'Retry-After': '86400' });
    const before = Date.now();
    const error = await failureOf(run(getMe, { authData }));
    expect(error.name).toBe('HaltedError');
    expect(error.message).toContain('The monthly quota is used up.');
    expect(error.message).toContain('retrying before then will not help');
    const resetAt = Date.parse(/resets at (\S+);/.exec(error.message)?.[1] ?? '');
    expect(resetAt - before).toBeGreaterThanOrEqual(86_400_000 - 1000);
    expect(resetAt - before).toBeLessThan(86_400_000 + 60_000);
  });

  it('400 lists every invalid field from error.details', async () => {
    api()
      .get('/api/v1/me')
      .reply(
        400,
        serverError('validation_error', 'The request is invalid.', [
          { field: 'destination_url', message: 'must be an http(s) URL' },
          { field: 'style.margin', message: 'must be at most 32' },
        ]),
      );
    const error = await failureOf(run(getMe, { authData }));
    const parsed = JSON.parse(error.message) as { message: string; code: string; status: number };
    expect(parsed.code).toBe('validation_error');
    expect(parsed.status).toBe(400);
    expect(parsed.message).toContain('destination_url: must be an http(s) URL');
    expect(parsed.message).toContain('style.margin: must be at most 32');
  });

  it('404 says the code may be gone', async () => {
    api().get('/api/v1/qr/qr_missing').reply(404, serverError('not_found', 'QR code not found.'));
    const error = await failureOf(run((z: ZObject) => z.request({ url: `${BASE_URL}/api/v1/qr/qr_missing` }), { authData }));
    expect(JSON.parse(error.message)).toMatchObject({ code: 'not_found', status: 404 });
    expect(error.message).toContain('still exists');
  });

  it('a 404 for a route (not a code) gets no "code may be gone" hint', async () => {
    api().get('/api/v1/nothing').reply(404, serverError('not_found', 'There is no GET /api/v1/nothing endpoint.'));
    const error = await failureOf(run((z: ZObject) => z.request({ url: `${BASE_URL}/api/v1/nothing` }), { authData }));
    expect(JSON.parse(error.message)).toMatchObject({ message: 'There is no GET /api/v1/nothing endpoint. (request req_test123)' });
  });

  it('a 404 the caller expects is passed through untouched', async () => {
    api().get('/api/v1/qr/qr_missing').reply(404, serverError('not_found', 'QR code not found.'));
    const response = (await run(
      (z: ZObject) => z.request({ url: `${BASE_URL}/api/v1/qr/qr_missing`, skipThrowForStatus: true }),
      { authData },
    )) as { status: number };
    expect(response.status).toBe(404);
  });

  it('409 idempotency_conflict explains how to pick the key', async () => {
    api().get('/api/v1/me').reply(409, serverError('idempotency_conflict', 'This Idempotency-Key was used with another body.'));
    const error = await failureOf(run(getMe, { authData }));
    expect(JSON.parse(error.message)).toMatchObject({ code: 'idempotency_conflict', status: 409 });
    expect(error.message).toContain('map a value unique to each trigger item');
  });

  it('a non-JSON failure (a proxy’s HTML page) still gives a readable message', async () => {
    api().get('/api/v1/me').reply(502, '<html>Bad gateway</html>', { 'X-Request-Id': 'req_proxy' });
    const error = await failureOf(run(getMe, { authData }));
    expect(JSON.parse(error.message)).toMatchObject({
      message: 'The qrflow server answered HTTP 502. (request req_proxy)',
      code: 'http_502',
      status: 502,
    });
  });
});
