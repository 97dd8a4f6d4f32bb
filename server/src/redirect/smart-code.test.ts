import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { QrRecord } from '../store/records.js';
import { visitorHash } from './recorder.js';
import { compileSmart, decide, variantOf, withUtm, type Visit } from './smart-code.js';
import { preferredLanguage } from './handler.js';
import { resolveCountry } from './country.js';
import { compileTimeWindow, inTimeWindow } from './time-window.js';

const record = (smart: QrRecord['smart'], id = 'qr_split'): QrRecord => ({
  id,
  workspace_id: 'ws_1',
  name: 'Split',
  type: 'url',
  mode: 'dynamic',
  destination_url: 'https://example.com/',
  content: null,
  short_code: 'abcdefg',
  status: 'active',
  tags: [],
  style: { foreground: '#000000', background: '#ffffff', margin: 4, error_correction: 'M' },
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  ...(smart ? { smart } : {}),
});

const visitOf = (visitor: number): Visit => ({
  now: 0,
  agent: () => ({ device: 'desktop', os: 'Linux', browser: 'Chrome', bot: false }),
  country: () => 'unknown',
  language: () => undefined,
  query: () => null,
  visitor: () => visitor,
});

describe('the A/B split', () => {
  it('splits 10,000 visitors within ±3 % of the weights and sends each visitor to the same variant again', () => {
    const code = compileSmart(record({ variants: [{ url: 'https://example.com/a', weight: 50 }, { url: 'https://example.com/b', weight: 30 }, { url: 'https://example.com/c', weight: 20 }] }))!;
    const salt = randomBytes(32);
    const counts = [0, 0, 0];
    for (let n = 0; n < 10_000; n++) {
      const visitor = visitorHash(salt, `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, 'Mozilla/5.0 (iPhone)');
      const first = decide(code, visitOf(visitor));
      expect(decide(code, visitOf(visitor))).toEqual(first);
      counts[first.variant as number]!++;
    }
    expect(Math.abs((counts[0] as number) / 10_000 - 0.5)).toBeLessThanOrEqual(0.03);
    expect(Math.abs((counts[1] as number) / 10_000 - 0.3)).toBeLessThanOrEqual(0.03);
    expect(Math.abs((counts[2] as number) / 10_000 - 0.2)).toBeLessThanOrEqual(0.03);
  });

  it('two codes split one visitor independently (the code id seeds the split)', () => {
    const variants = [{ url: 'https://example.com/a', weight: 1 }, { url: 'https://example.com/b', weight: 1 }];
    const first = compileSmart(record({ variants }, 'qr_one'))!.variants!;
    const second = compileSmart(record({ variants }, 'qr_two'))!.variants!;
    let same = 0;
    for (let visitor = 0; visitor < 2000; visitor++) if (variantOf(first, visitor * 2654435761) === variantOf(second, visitor * 2654435761)) same++;
    expect(same).toBeGreaterThan(800);
    expect(same).toBeLessThan(1200);
  });
});

describe('UTM merge', () => {
  const utm = { source: 'flyer', medium: 'print' };
  it('adds a query to a destination without one, before the fragment', () => {
    expect(withUtm('https://example.com/page#part', utm)).toBe('https://example.com/page?utm_source=flyer&utm_medium=print#part');
  });
  it('keeps the destination\'s own parameters (and their order and repeats) and its own utm_* values', () => {
    expect(withUtm('https://example.com/?b=2&a=1&a=3&utm_source=site', utm)).toBe('https://example.com/?b=2&a=1&a=3&utm_source=site&utm_medium=print');
  });
  it('leaves a destination that has every parameter already as it is', () => {
    expect(withUtm('https://example.com/?utm_source=x&utm_medium=y', utm)).toBe('https://example.com/?utm_source=x&utm_medium=y');
  });
  it('encodes values and handles a bare ? or a trailing &', () => {
    expect(withUtm('https://example.com/?', { campaign: 'spring & summer' })).toBe('https://example.com/?utm_campaign=spring%20%26%20summer');
    expect(withUtm('https://example.com/?a=1&', { term: 'qr' })).toBe('https://example.com/?a=1&utm_term=qr');
  });
});

describe('Accept-Language', () => {
  it('names the primary tag of the language with the highest q, the first written on a tie', () => {
    expect(preferredLanguage('fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5')).toBe('fr');
    expect(preferredLanguage('en;q=0.3, DE-at;q=0.8')).toBe('de');
    expect(preferredLanguage('*, es')).toBe('es');
    expect(preferredLanguage('de;q=0')).toBeUndefined();
    expect(preferredLanguage(undefined)).toBeUndefined();
  });
});

describe('country resolution', () => {
  const lookup = (ip: string) => ({ country: ip === '81.2.69.142' ? 'gb' : null, region: null, city: null });
  it('takes the proxy header first, then the injected lookup, else unknown', () => {
    expect(resolveCountry('de', '81.2.69.142', lookup)).toBe('DE');
    expect(resolveCountry(undefined, '81.2.69.142', lookup)).toBe('GB');
    expect(resolveCountry('XX', '81.2.69.142', lookup)).toBe('GB');
    expect(resolveCountry(undefined, '10.0.0.1', lookup)).toBe('unknown');
    expect(resolveCountry(undefined, '81.2.69.142')).toBe('unknown');
  });
});

describe('time windows', () => {
  const at = (iso: string) => Date.parse(iso);
  it('follow the zone\'s DST changes (Europe/Berlin, spring and autumn)', () => {
    const office = compileTimeWindow({ from: '09:00', to: '17:30', tz: 'Europe/Berlin' });
    // 08:30 UTC is 09:30 before the spring change (CET) and 10:30 after it (CEST); 07:30 UTC is 08:30, then 09:30
    expect(inTimeWindow(office, at('2026-03-28T07:30:00Z'))).toBe(false);
    expect(inTimeWindow(office, at('2026-03-29T07:30:00Z'))).toBe(true);
    // 16:00 UTC is 18:00 CEST on 24 October and 17:00 CET on the 26th (the autumn change was on the 25th)
    expect(inTimeWindow(office, at('2026-10-24T16:00:00Z'))).toBe(false);
    expect(inTimeWindow(office, at('2026-10-26T16:00:00Z'))).toBe(true);
    // the upper bound is exclusive
    expect(inTimeWindow(office, at('2026-10-26T16:30:00Z'))).toBe(false);
  });

  it('span midnight when from is later than to, on the weekday they open', () => {
    const friday = compileTimeWindow({ from: '22:00', to: '02:00', tz: 'America/New_York', weekdays: [5] });
    expect(inTimeWindow(friday, at('2026-07-11T03:00:00Z'))).toBe(true); // Friday 23:00 EDT
    expect(inTimeWindow(friday, at('2026-07-11T05:59:00Z'))).toBe(true); // Saturday 01:59 EDT
    expect(inTimeWindow(friday, at('2026-07-11T06:00:00Z'))).toBe(false); // Saturday 02:00 EDT
    expect(inTimeWindow(friday, at('2026-07-10T05:00:00Z'))).toBe(false); // Friday 01:00 EDT: Thursday's night
    expect(inTimeWindow(friday, at('2026-07-12T03:00:00Z'))).toBe(false); // Saturday 23:00 EDT
  });

  it('never match in a zone the runtime does not know', () => {
    expect(inTimeWindow({ from: 0, to: 1439, tz: 'Nowhere/Special', weekdays: 0xff }, 0)).toBe(false);
  });
});
