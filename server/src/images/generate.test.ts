import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { WorkspaceRecord } from '../store/records.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { checksum, KEY_PREFIX } from '../keys/key-format.js';
import { MAX_GENERATE_CHARACTERS, PREVIEW_REASONS, type PreviewReason } from './generate-routes.js';
import { PREVIEW_LIMIT_PER_MINUTE } from '../usage/rate-limit.js';

// jsqr is CommonJS; its module.exports and .default are the same function, which TypeScript (NodeNext) sees as .default
const jsQR = jsQRModule.default;

const PLANS = {
  // roomy per-minute and monthly limits, two image credits
  two_credits: { name: 'Two credits', api_access: true, requests_per_minute: 1000, monthly_api_calls: 1000, monthly_image_credits: 2, max_qr_codes: 10, max_api_keys: 10 },
  roomy: { name: 'Roomy', api_access: true, requests_per_minute: 1000, monthly_api_calls: 1000, monthly_image_credits: 1000, max_qr_codes: 10, max_api_keys: 10 },
};

let plansDir: string;
let plansFile: string;

beforeAll(() => {
  plansDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-plans-'));
  plansFile = path.join(plansDir, 'plans.json');
  fs.writeFileSync(plansFile, JSON.stringify(PLANS));
});

afterAll(() => fs.rmSync(plansDir, { recursive: true, force: true }));

interface ErrorBody {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> };
}

function generateUrl(params: Record<string, string | number>): string {
  return `/api/v1/generate?${new URLSearchParams(Object.entries(params).map(([name, value]) => [name, String(value)])).toString()}`;
}

function readPng(bytes: Buffer): PNG {
  return PNG.sync.read(bytes);
}

/** What a standard decoder (jsQR, trying normal and inverted) reads from a PNG, or undefined. */
function decode(png: PNG): string | undefined {
  return jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength), png.width, png.height)?.data;
}

function rgbAt(png: PNG, x: number, y: number): string {
  const offset = (png.width * y + x) * 4;
  return `#${[0, 1, 2].map((channel) => (png.data[offset + channel] as number).toString(16).padStart(2, '0')).join('')}`;
}

async function body(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

describe('GET /api/v1/generate', () => {
  const clock = new ManualClock(Date.parse('2026-03-10T12:00:00Z'));
  let srv: TestServer;
  let session: string;
  let workspace: WorkspaceRecord;
  let key: string;

  beforeAll(async () => {
    srv = await startTestServer({ clock, plan: 'roomy', env: { QRFLOW_PLANS_FILE: plansFile } });
    session = await srv.login();
    workspace = srv.workspace;
    key = (await srv.createKey({ name: 'Links', scopes: ['qr:read'] })).secret;
  });

  afterAll(async () => {
    await srv.cleanup();
  });

  async function usage(token = session): Promise<{ api_calls: { used: number }; image_credits: { used: number; limit: number }; keys: Array<{ name: string; api_calls: number }> }> {
    const response = await srv.request('GET', '/api/v1/usage', { token });
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: never }).data;
  }

  it('with a key in the query string: the image, which decodes to the data, one credit and one API call used', async () => {
    const data = 'https://example.com/menu?table=12';
    const before = await usage();
    const response = await srv.request('GET', generateUrl({ data, api_key: key }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('cache-control')).toBe('private, max-age=300');
    expect(response.headers.get('qr-preview')).toBeNull();
    const png = readPng(await body(response));
    expect(png.width).toBe(512);
    expect(decode(png)).toBe(data);
    const after = await usage();
    expect(after.image_credits.used).toBe(before.image_credits.used + 1);
    expect(after.api_calls.used).toBe(before.api_calls.used + 1);
    expect(after.keys.find((entry) => entry.name === 'Links')?.api_calls).toBe(before.keys.find((entry) => entry.name === 'Links')!.api_calls + 1);
  });

  it('with a key in the Authorization header: the image, with the minute and month RateLimit policies like any API response', async () => {
    const data = 'header key';
    const response = await srv.request('GET', generateUrl({ data, size: 300 }), { token: key });
    expect(response.status).toBe(200);
    expect(response.headers.get('qr-preview')).toBeNull();
    expect(response.headers.get('ratelimit-policy')).toMatch(/^"minute"; q=1000; w=60; pk=:[^:]+:, "month"; q=1000; w=\d+$/);
    expect(response.headers.get('ratelimit')).toMatch(/^"minute"; r=\d+; t=\d+, "month"; r=\d+; t=\d+$/);
    const png = readPng(await body(response));
    expect(png.width).toBe(300);
    expect(decode(png)).toBe(data);
  });

  it('takes the Authorization header over the query string when both are sent', async () => {
    const response = await srv.request('GET', generateUrl({ data: 'both given', api_key: 'qr_live_not-a-real-key' }), { token: key });
    expect(response.status).toBe(200);
    expect(response.headers.get('qr-preview')).toBeNull();
  });

  it('serves the same image again from the cache: no second credit, and 304 for a matching If-None-Match', async () => {
    const url = generateUrl({ data: 'cached twice', api_key: key });
    const first = await srv.request('GET', url);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"/);
    const used = (await usage()).image_credits.used;
    const second = await srv.request('GET', url);
    expect(second.status).toBe(200);
    expect((await body(second)).equals(await body(first))).toBe(true);
    expect((await srv.request('GET', url, { headers: { 'if-none-match': etag! } })).status).toBe(304);
    expect((await usage()).image_credits.used).toBe(used);
  });

  it('renders an SVG for format=svg, without a watermark', async () => {
    const response = await srv.request('GET', generateUrl({ data: 'vector', format: 'svg', size: 256, api_key: key }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('image/svg+xml');
    const svg = await response.text();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* width="256" height="256"/);
    expect(svg).not.toContain('PREVIEW');
  });

  it(`accepts ${MAX_GENERATE_CHARACTERS} characters of data, and a 2048 px image`, async () => {
    const data = `https://example.com/${'a'.repeat(MAX_GENERATE_CHARACTERS - 20)}`;
    expect(data).toHaveLength(MAX_GENERATE_CHARACTERS);
    const response = await srv.request('GET', generateUrl({ data, size: 2048 }), { token: key });
    expect(response.status).toBe(200);
    const png = readPng(await body(response));
    expect(png.width).toBe(2048);
    expect(decode(png)).toBe(data);
  });

  describe('bad parameters answer 400 in the error model, with or without a key', () => {
    it.each([
      ['no data', {}, 'data'],
      ['empty data', { data: '' }, 'data'],
      ['data over 2000 characters', { data: 'x'.repeat(MAX_GENERATE_CHARACTERS + 1) }, 'data'],
      ['data over what one code holds in UTF-8', { data: '漢'.repeat(800) }, 'data'],
      ['size 63', { data: 'x', size: 63 }, 'size'],
      ['size 2049', { data: 'x', size: 2049 }, 'size'],
      ['size not a number', { data: 'x', size: 'big' }, 'size'],
      ['format gif', { data: 'x', format: 'gif' }, 'format'],
      ['an unknown parameter', { data: 'x', colour: 'red' }, 'colour'],
    ])('%s', async (_name, params: Record<string, string | number>, field) => {
      for (const withKey of [true, false]) {
        const response = await srv.request('GET', generateUrl(withKey ? { ...params, api_key: key } : params));
        expect(response.status).toBe(400);
        const error = ((await response.json()) as ErrorBody).error;
        expect(error.code).toBe('validation_error');
        expect(error.details?.map((detail) => detail.field).join(' ')).toContain(field);
      }
    });
  });

  describe('without a usable key: 200, the watermarked image, the reason in QR-Preview, no credit used', () => {
    const data = 'https://example.com/preview-me';
    const keys = {} as Record<PreviewReason, () => Promise<{ query?: string; header?: string }>>;
    const services = () => srv.running.app.services;
    const current = async (id: string) => (await srv.running.store.get('workspaces', id)) as WorkspaceRecord;

    beforeAll(() => {
      Object.assign(keys, {
        missing_key: async () => ({}),
        malformed_api_key: async () => ({ query: 'qr_live_short' }),
        // well formed (right length and checksum) but never issued
        invalid_key: async () => ({ query: `${KEY_PREFIX}${'A'.repeat(26)}${checksum('A'.repeat(26))}` }),
        api_key_paused: async () => {
          const created = await srv.createKey({ name: 'Paused' });
          await services().keys.pause(await current(workspace.id), created.id);
          return { query: created.secret };
        },
        api_key_revoked: async () => {
          const created = await srv.createKey({ name: 'Revoked' });
          await services().keys.revoke(await current(workspace.id), created.id);
          return { query: created.secret };
        },
        api_key_expired: async () => {
          const created = await services().keys.create(await current(workspace.id), { name: 'Expiring', expires_at: new Date(clock.now() + 60_000).toISOString() }, 'test');
          clock.advance(120_000);
          return { query: created.secret };
        },
        plan_upgrade_required: async () => {
          const other = await srv.createWorkspace('Downgraded', 'roomy');
          const created = await srv.createKey({ workspace: other.workspace });
          await services().workspaces.setPlan(await current(other.workspace.id), 'free');
          return { header: created.secret };
        },
        subscription_inactive: async () => {
          const other = await srv.createWorkspace('Lapsed', 'roomy');
          const created = await srv.createKey({ workspace: other.workspace });
          await services().workspaces.setPlan(await current(other.workspace.id), 'roomy', 'expired');
          return { query: created.secret };
        },
        insufficient_scope: async () => ({ query: (await srv.createKey({ name: 'Analytics only', scopes: ['analytics:read'] })).secret }),
      });
    });

    it('lists every reason it can send', () => {
      expect(Object.keys(keys).sort()).toEqual([...PREVIEW_REASONS].sort());
    });

    it.each(PREVIEW_REASONS.map((reason) => [reason]))('%s: PNG readable with a key, unreadable (same decoder) as a preview', async (reason) => {
      const presented = await keys[reason]();
      const before = await usage();
      const response = await srv.request('GET', generateUrl({ data, ...(presented.query ? { api_key: presented.query } : {}) }), presented.header ? { token: presented.header } : {});
      expect(response.status).toBe(200);
      expect(response.headers.get('qr-preview')).toBe(reason);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('content-type')).toBe('image/png');
      expect(response.headers.get('ratelimit-policy')).toMatch(new RegExp(`^"preview"; q=${PREVIEW_LIMIT_PER_MINUTE}; w=60; pk=:[^:]+:$`));
      const preview = readPng(await body(response));
      expect(decode(preview)).toBeUndefined();

      const valid = await srv.request('GET', generateUrl({ data, api_key: key }));
      const image = readPng(await body(valid));
      expect(decode(image)).toBe(data);
      // the same code underneath: same dimensions, and most pixels away from the stamps agree
      expect([preview.width, preview.height]).toEqual([image.width, image.height]);

      const after = await usage();
      // the valid request may have used the one credit of this data; the preview used none
      expect(after.image_credits.used - before.image_credits.used).toBeLessThanOrEqual(1);
      expect(after.api_calls.used - before.api_calls.used).toBe(1);
    });

    it('a preview uses no credit and counts no API call', async () => {
      const before = await usage();
      for (const size of [128, 256, 512]) {
        const response = await srv.request('GET', generateUrl({ data: `never charged ${size}`, size }));
        expect(response.headers.get('qr-preview')).toBe('missing_key');
      }
      const after = await usage();
      expect(after.image_credits.used).toBe(before.image_credits.used);
      expect(after.api_calls.used).toBe(before.api_calls.used);
    });

    it('stays unreadable across sizes and lengths of data', async () => {
      for (const [length, size] of [[1, 64], [40, 128], [300, 512], [1200, 1024], [2000, 2048]] as const) {
        const text = 'p'.repeat(length);
        const preview = readPng(await body(await srv.request('GET', generateUrl({ data: text, size }))));
        expect(decode(preview), `${length} characters at ${size} px`).toBeUndefined();
      }
    });

    it('says PREVIEW where people look: red letters on a white band across the middle, red squares over the finder patterns', async () => {
      const size = 512;
      const response = await srv.request('GET', generateUrl({ data, size }));
      const png = readPng(await body(response));
      const middle = Math.floor(size / 2);
      const bandRow = new Set<string>();
      for (let x = 0; x < size; x++) bandRow.add(rgbAt(png, x, middle));
      expect(bandRow).toEqual(new Set(['#ffffff', '#dc2626']));
      // the finder patterns sit inside the 4-module quiet zone at the top left, top right and bottom left
      const modules = QRCode.create(data, { errorCorrectionLevel: 'M' }).modules.size + 8; // plus the 4-module margins
      const module = size / modules;
      const centre = (moduleIndex: number) => Math.floor((moduleIndex + 0.5) * module);
      for (const [mx, my] of [[7, 7], [modules - 8, 7], [7, modules - 8]] as const) expect(rgbAt(png, centre(mx), centre(my))).toBe('#dc2626');
    });

    it('SVG: the PREVIEW text and red squares over the three finder patterns, in the code\'s own module units', async () => {
      const response = await srv.request('GET', generateUrl({ data, format: 'svg', size: 300 }));
      expect(response.status).toBe(200);
      expect(response.headers.get('qr-preview')).toBe('missing_key');
      const svg = await response.text();
      expect(svg).toMatch(/<text [^>]*fill="#dc2626"[^>]*>PREVIEW<\/text>/);
      const symbol = QRCode.create(data, { errorCorrectionLevel: 'M' }).modules.size;
      expect(Number(/viewBox="0 0 (\d+) \d+"/.exec(svg)?.[1])).toBe(symbol + 8);
      const squares = [...svg.matchAll(/<rect x="([\d.-]+)" y="([\d.-]+)" width="10" height="10"\/>/g)].map((match) => [Number(match[1]), Number(match[2])]);
      // each 10x10 square covers a 7x7 finder and its separator, one module more around (the margin is 4 modules)
      const far = 4 + symbol - 9;
      expect(squares).toEqual([[3, 3], [far, 3], [3, far]]);
      expect(svg.trimEnd()).toMatch(/<\/svg>$/);
    });

    it('renders each preview once: repeats come from the cache', async () => {
      const options = { text: 'cached preview', format: 'png' as const, size: 200, foreground: '#000000', background: '#ffffff', margin: 4, errorCorrection: 'M' as const, watermark: true };
      expect(srv.running.app.services.renderer.cached(options)).toBeUndefined();
      await srv.request('GET', generateUrl({ data: 'cached preview', size: 200 }));
      expect(srv.running.app.services.renderer.cached(options)?.bytes.length).toBeGreaterThan(0);
    });

    it('never accepts a session token in the URL', async () => {
      const response = await srv.request('GET', generateUrl({ data, api_key: session }));
      expect(response.headers.get('qr-preview')).toBe('malformed_api_key');
    });
  });

  it('keeps the key out of its own request logs', async () => {
    await srv.request('GET', generateUrl({ data: 'logged', api_key: key }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const logs = srv.logs();
    expect(logs).toContain('api_key=[redacted]');
    expect(logs).not.toContain(key);
  });
});

describe('GET /api/v1/generate limits', () => {
  let srv: TestServer;

  beforeAll(async () => {
    srv = await startTestServer({ plan: 'two_credits', env: { QRFLOW_PLANS_FILE: plansFile } });
  });

  afterAll(async () => {
    await srv.cleanup();
  });

  it('answers 429 image_credits_exhausted once the month\'s credits are used, still serves cached images and previews', async () => {
    const { secret } = await srv.createKey();
    for (const data of ['first', 'second']) expect((await srv.request('GET', generateUrl({ data, api_key: secret }))).status).toBe(200);
    const response = await srv.request('GET', generateUrl({ data: 'third', api_key: secret }));
    expect(response.status).toBe(429);
    const error = ((await response.json()) as ErrorBody).error;
    expect(error.code).toBe('image_credits_exhausted');
    expect(error.message).toMatch(/all 2 image credits/);
    expect(error.message).toMatch(/reset at \d{4}-\d{2}-01T00:00:00\.000Z/);
    expect(error.message).toMatch(/upgrade the plan/);
    const retryAfter = Number(response.headers.get('retry-after'));
    const now = Date.now();
    const nextMonth = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + 1, 1);
    expect(Math.abs(retryAfter - (nextMonth - now) / 1000)).toBeLessThan(5);
    expect((await srv.request('GET', generateUrl({ data: 'first', api_key: secret }))).status).toBe(200);
    const preview = await srv.request('GET', generateUrl({ data: 'third' }));
    expect(preview.status).toBe(200);
    expect(preview.headers.get('qr-preview')).toBe('missing_key');
  });

  it(`serves at most ${PREVIEW_LIMIT_PER_MINUTE} previews a minute to one IP, then 429 rate_limited; keyed requests are not affected`, async () => {
    const { secret } = await srv.createKey();
    for (let i = 0; i < PREVIEW_LIMIT_PER_MINUTE - 1; i++) {
      const response = await srv.request('GET', generateUrl({ data: 'flood' }));
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    const limited = await srv.request('GET', generateUrl({ data: 'flood', api_key: 'qr_live_guess' }));
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as ErrorBody).error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit')).toMatch(/^"preview"; r=0; t=\d+$/);
    const keyed = await srv.request('GET', generateUrl({ data: 'first', api_key: secret }));
    expect(keyed.status).toBe(200);
    expect(keyed.headers.get('qr-preview')).toBeNull();
  });
});

describe('GET /api/v1/generate in the OpenAPI document', () => {
  it('documents the optional key, the api_key query parameter with its risk, and the preview reasons', async () => {
    const srv = await startTestServer();
    try {
      const document = (await (await fetch(`${srv.baseUrl}/openapi.json`)).json()) as {
        paths: Record<string, { get: { security: unknown; description: string; parameters: Array<{ name: string; in: string; description?: string }>; responses: Record<string, unknown> } }>;
      };
      const operation = document.paths['/api/v1/generate']!.get;
      expect(operation.security).toEqual([{ bearerAuth: [] }, {}]);
      expect(operation.parameters.map((parameter) => parameter.name).sort()).toEqual([
        'api_key', 'background', 'data', 'error_correction', 'finder_shape', 'foreground', 'format', 'frame_color', 'frame_text', 'frame_text_color', 'margin', 'module_shape', 'size', 'size_mm',
      ]);
      expect(operation.parameters.find((parameter) => parameter.name === 'api_key')?.description).toMatch(/browser history/);
      expect(operation.description).toMatch(/only endpoint that accepts the API key as a query parameter/);
      expect(operation.description).toMatch(/redacts `api_key` from its own request logs/);
      for (const reason of PREVIEW_REASONS) expect(operation.description).toContain(`\`${reason}\``);
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400', '429']));
    } finally {
      await srv.cleanup();
    }
  });
});
