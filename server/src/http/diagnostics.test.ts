import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';

describe('event-loop diagnostics', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.cleanup();
    server = undefined;
  });

  it('is off by default: /__diagnostics/eventloop answers 404', async () => {
    server = await startTestServer();
    const response = await fetch(`${server.baseUrl}/__diagnostics/eventloop`);
    expect(response.status).toBe(404);
  });

  it('with QRFLOW_DIAGNOSTICS=true, answers loopback clients with event-loop delay percentiles and resets them', async () => {
    server = await startTestServer({ env: { QRFLOW_DIAGNOSTICS: 'true' } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const first = await fetch(`${server.baseUrl}/__diagnostics/eventloop?reset=1`);
    expect(first.status).toBe(200);
    const body = (await first.json()) as Record<string, number>;
    expect(body.count).toBeGreaterThan(0);
    expect(body.pid).toBe(process.pid); // the test server runs in this process
    expect(body.p99_ms).toBeGreaterThanOrEqual(body.p50_ms as number);
    const after = (await (await fetch(`${server.baseUrl}/__diagnostics/eventloop`)).json()) as Record<string, number>;
    expect(after.count).toBeLessThan(body.count as number);
  });
});
