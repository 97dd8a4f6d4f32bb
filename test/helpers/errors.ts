import { expect } from 'vitest';

export interface ErrorResponseBody {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> };
  request_id: string;
}

/**
 * Asserts that a response is an error in the one error model (status, code, a sentence of a message,
 * request_id equal to the X-Request-Id header) and returns its body.
 */
export async function expectError(response: Response, status: number, code: string): Promise<ErrorResponseBody> {
  const text = await response.text();
  expect({ status: response.status, body: text }).toMatchObject({ status });
  const body = JSON.parse(text) as ErrorResponseBody;
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(/^\S.{10,}/s);
  expect(body.request_id).toBeTruthy();
  expect(response.headers.get('x-request-id')).toBe(body.request_id);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return body;
}
