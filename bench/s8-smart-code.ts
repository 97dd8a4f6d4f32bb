/**
 * S8's smart code: 5 rules that all miss for the load generator's request (a desktop Chrome on Linux, no country
 * header, no Accept-Language, no query), so every one is checked, then an A/B split that hashes the visitor.
 */
export const S8_SMART_CODE = {
  name: 'S8 smart',
  destination_url: 'https://example.com/s8',
  redirect_rules: [
    { url: 'https://example.com/phone', conditions: [{ type: 'device', in: ['mobile', 'tablet'] }] },
    { url: 'https://example.com/app', conditions: [{ type: 'os', in: ['iOS', 'Android'] }] },
    { url: 'https://example.com/dach', conditions: [{ type: 'country', in: ['DE', 'AT', 'CH'] }] },
    { url: 'https://example.com/fr', conditions: [{ type: 'language', in: ['fr'] }] },
    { url: 'https://example.com/flyer', conditions: [{ type: 'time', from: '00:00', to: '23:59', tz: 'Europe/Berlin' }, { type: 'query', param: 'src', equals: 'flyer' }] },
  ],
  variants: [{ url: 'https://example.com/a', weight: 50 }, { url: 'https://example.com/b', weight: 50 }],
  utm: { source: 'bench', medium: 'qr' },
};
