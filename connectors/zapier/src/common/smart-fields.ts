import type { PlainInputField, PlainOutputField, ZObject } from 'zapier-platform-core';

import type { RedirectRule, SmartCodeFields, UtmField } from './api.js';

/** The simple rule form offers the conditions a marketer thinks of first; query and time rules go in the JSON field. */
const SIMPLE_CONDITIONS = {
  device: 'Device (mobile, tablet, desktop)',
  os: 'Operating System (iOS, Android, Windows, macOS, Linux)',
  country: 'Country (ISO codes such as DE, AT)',
  language: 'Language (such as de, fr)',
} as const;

const UTM_FIELDS: { key: UtmField; label: string; example: string }[] = [
  { key: 'source', label: 'UTM Source', example: 'flyer' },
  { key: 'medium', label: 'UTM Medium', example: 'print' },
  { key: 'campaign', label: 'UTM Campaign', example: 'spring-sale' },
  { key: 'term', label: 'UTM Term', example: 'running shoes' },
  { key: 'content', label: 'UTM Content', example: 'back-page' },
];

/** The settings Update QR Code can remove, each sent as `null`. */
export const REMOVABLE_SETTINGS = {
  redirect_rules: 'Redirect Rules',
  variants: 'A/B Variants',
  valid_from: 'Valid From',
  valid_until: 'Valid Until',
  max_scans: 'Scan Limit',
  expired_url: 'Expired URL',
  password: 'Password',
  utm: 'UTM Parameters',
} as const;

export const SMART_GROUP = { key: 'smart', label: 'Smart Redirects (Dynamic Codes)' } as const;

/** The smart-code inputs of Create and Update QR Code; on update an empty field keeps the current setting. */
export function smartInputFields({ forUpdate = false } = {}): PlainInputField[] {
  const keep = forUpdate ? ' Leave empty to keep the current setting.' : '';
  const group = SMART_GROUP.key;
  const fields: PlainInputField[] = [
    {
      key: 'rules',
      label: 'Redirect Rules',
      group,
      // a parent of line items takes no help text: its first child explains the group
      children: [
        {
          key: 'rule_condition',
          label: 'Rule Condition',
          type: 'string',
          choices: { ...SIMPLE_CONDITIONS },
          helpText:
            'Send scans to another URL by device, operating system, country or language. One line per rule; the first matching rule wins, ' +
            `and a scan no rule matches goes to the destination URL.${forUpdate ? ' Given rules replace all current rules.' : ''}`,
        },
        {
          key: 'rule_values',
          label: 'Rule Values',
          type: 'string',
          helpText: 'Comma-separated values the rule matches, e.g. `mobile, tablet`, `iOS` or `DE, AT`.',
        },
        { key: 'rule_url', label: 'Rule URL', type: 'string', helpText: 'Where a matching scan goes, starting with https://.' },
      ],
    },
    {
      key: 'redirect_rules_json',
      label: 'Redirect Rules (Advanced JSON)',
      type: 'text',
      required: false,
      group,
      helpText:
        'The full rule list as JSON, for rules the simple form cannot express (several conditions, `query` and `time` conditions), e.g. ' +
        '`[{"url": "https://example.com/de", "conditions": [{"type": "country", "in": ["DE"]}, {"type": "time", "from": "09:00", "to": "17:00", "tz": "Europe/Berlin"}]}]`. ' +
        `Use either this or Redirect Rules.${keep}`,
    },
    {
      key: 'variants',
      label: 'A/B Variants',
      group,
      children: [
        {
          key: 'variant_url',
          label: 'Variant URL',
          type: 'string',
          helpText:
            'Split scans between 2 to 10 URLs by weight (used when no rule matched); one line per URL. A returning visitor gets the same variant all day.' +
            (forUpdate ? ' Given variants replace the current split.' : ''),
        },
        { key: 'variant_weight', label: 'Variant Weight', type: 'integer', helpText: 'Its share, e.g. 50 and 50, or 80 and 20.' },
      ],
    },
    { key: 'valid_from', label: 'Valid From', type: 'datetime', required: false, group, helpText: `Before this time scans go to the Expired URL (or see an "expired" page).${keep}` },
    { key: 'valid_until', label: 'Valid Until', type: 'datetime', required: false, group, helpText: `From this time on scans go to the Expired URL (or see an "expired" page).${keep}` },
    {
      key: 'max_scans',
      label: 'Scan Limit',
      type: 'integer',
      required: false,
      group,
      helpText: `After this many scans (bots not counted) scans go to the Expired URL (or see an "expired" page).${keep}`,
    },
    {
      key: 'expired_url',
      label: 'Expired URL',
      type: 'string',
      required: false,
      group,
      helpText: `Where scans go before Valid From, after Valid Until or past the Scan Limit. Without it they see a page saying the code has expired.${keep}`,
    },
    {
      key: 'password',
      label: 'Password',
      type: 'password',
      required: false,
      group,
      helpText: `A scan asks for this password (8 to 128 characters) before it redirects. qrflow stores only a hash and never shows it again.${keep}`,
    },
    ...UTM_FIELDS.map(
      ({ key, label, example }): PlainInputField => ({
        key: `utm_${key}`,
        label,
        type: 'string',
        required: false,
        group,
        helpText: `Added to the destination as \`utm_${key}\`, e.g. \`${example}\`; a \`utm_${key}\` already in the URL wins.${keep}`,
      }),
    ),
  ];
  if (forUpdate) {
    fields.push({
      key: 'remove_settings',
      label: 'Remove Settings',
      type: 'string',
      list: true,
      required: false,
      group,
      choices: { ...REMOVABLE_SETTINGS },
      helpText: 'Settings to take off the code, e.g. the password or the schedule. Removing wins over a value given above.',
    });
  }
  return fields;
}

/** Builds the smart-code members of a create or update body from the inputs; throws a message the user can act on. */
export function buildSmartBody(z: ZObject, inputData: Record<string, unknown>, { forUpdate = false } = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const rules = simpleRules(z, inputData);
  if (present(inputData.redirect_rules_json)) {
    if (rules.length) {
      throw new z.errors.Error('Use either Redirect Rules or Redirect Rules (Advanced JSON), not both.', 'invalid_input', 400);
    }
    body.redirect_rules = parseJsonList(z, inputData.redirect_rules_json, 'Redirect Rules (Advanced JSON)');
  } else if (rules.length) {
    body.redirect_rules = rules;
  }
  const variants = lineItems(inputData, 'variants', ['variant_url', 'variant_weight'])
    .filter((row) => present(row.variant_url))
    .map((row) => ({ url: String(row.variant_url).trim(), weight: toInteger(z, row.variant_weight ?? 1, 'Variant Weight') }));
  if (variants.length) body.variants = variants;
  for (const key of ['valid_from', 'valid_until'] as const) {
    if (present(inputData[key])) body[key] = toIsoTime(z, inputData[key], key === 'valid_from' ? 'Valid From' : 'Valid Until');
  }
  if (present(inputData.max_scans)) body.max_scans = toInteger(z, inputData.max_scans, 'Scan Limit');
  if (present(inputData.expired_url)) body.expired_url = String(inputData.expired_url).trim();
  if (present(inputData.password)) body.password = String(inputData.password);
  const utm: Record<string, string> = {};
  for (const { key } of UTM_FIELDS) {
    const value = inputData[`utm_${key}`];
    if (present(value)) utm[key] = String(value).trim();
  }
  if (Object.keys(utm).length) body.utm = utm;
  if (forUpdate) {
    for (const setting of toList(inputData.remove_settings)) {
      if (setting in REMOVABLE_SETTINGS) body[setting] = null;
    }
  }
  return body;
}

/** The simple form's rows as API rules: one condition each, in the order given. */
function simpleRules(z: ZObject, inputData: Record<string, unknown>): RedirectRule[] {
  return lineItems(inputData, 'rules', ['rule_condition', 'rule_values', 'rule_url'])
    .filter((row) => present(row.rule_condition) || present(row.rule_values) || present(row.rule_url))
    .map((row, index) => {
      const type = String(row.rule_condition ?? '').trim();
      const values = toList(row.rule_values);
      if (!(type in SIMPLE_CONDITIONS) || !values.length || !present(row.rule_url)) {
        throw new z.errors.Error(
          `Redirect rule ${index + 1} needs a condition (device, os, country or language), at least one value and a URL.`,
          'invalid_input',
          400,
        );
      }
      return {
        url: String(row.rule_url).trim(),
        conditions: [{ type: type as keyof typeof SIMPLE_CONDITIONS, in: values.map((value) => normalizeValue(type, value)) }],
      };
    });
}

// The API's own spellings: device and language tags lower case, country codes upper case; OS names match in any case.
function normalizeValue(type: string, value: string): string {
  if (type === 'country') return value.toUpperCase();
  if (type === 'device' || type === 'language') return value.toLowerCase();
  return value;
}

/**
 * The rows of a line-item group. Zapier hands them over as an array under the parent key when line items are
 * mapped; a single row typed by hand may arrive only as the children's top-level values.
 */
export function lineItems(inputData: Record<string, unknown>, parent: string, children: string[]): Record<string, unknown>[] {
  const rows = inputData[parent];
  if (Array.isArray(rows)) return rows.filter((row): row is Record<string, unknown> => !!row && typeof row === 'object');
  if (children.some((child) => present(inputData[child]))) return [Object.fromEntries(children.map((child) => [child, inputData[child]]))];
  return [];
}

function parseJsonList(z: ZObject, raw: unknown, label: string): unknown[] {
  let parsed: unknown = raw;
  if (typeof raw === 'string') {
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new z.errors.Error(`${label} is not valid JSON. Write a list such as [{"url": "https://…", "conditions": [ … ]}].`, 'invalid_input', 400);
    }
  }
  if (!Array.isArray(parsed)) throw new z.errors.Error(`${label} must be a JSON list (starting with [).`, 'invalid_input', 400);
  return parsed;
}

function toInteger(z: ZObject, value: unknown, label: string): number {
  const number = Number(String(value).trim());
  if (!Number.isInteger(number)) throw new z.errors.Error(`${label} must be a whole number (got "${String(value)}").`, 'invalid_input', 400);
  return number;
}

// Zapier normalises datetime fields to ISO 8601, but a mapped value may be any date text; the API wants an offset.
function toIsoTime(z: ZObject, value: unknown, label: string): string {
  const time = Date.parse(String(value));
  if (Number.isNaN(time)) throw new z.errors.Error(`${label} is not a date and time (got "${String(value)}").`, 'invalid_input', 400);
  return new Date(time).toISOString();
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function toList(value: unknown): string[] {
  if (!present(value)) return [];
  const items = Array.isArray(value) ? value : String(value).split(',');
  return items.map((item) => String(item).trim()).filter(Boolean);
}

/** What a dynamic code answers about its smart settings, for samples. */
export const smartSample: SmartCodeFields = {
  redirect_rules: [{ url: 'https://example.com/spring/app', conditions: [{ type: 'device', in: ['mobile'] }] }],
  variants: null,
  valid_from: null,
  valid_until: '2026-12-31T23:00:00.000Z',
  max_scans: null,
  expired_url: 'https://example.com/sale-over',
  password_protected: false,
  utm: { source: 'flyer', medium: 'print' },
  state: 'live',
};

export const smartOutputFields = [
  { key: 'state', label: 'State', type: 'string' },
  { key: 'redirect_rules[]url', label: 'Redirect Rule URL', type: 'string' },
  { key: 'variants[]url', label: 'Variant URL', type: 'string' },
  { key: 'variants[]weight', label: 'Variant Weight', type: 'integer' },
  { key: 'valid_from', label: 'Valid From', type: 'datetime' },
  { key: 'valid_until', label: 'Valid Until', type: 'datetime' },
  { key: 'max_scans', label: 'Scan Limit', type: 'integer' },
  { key: 'expired_url', label: 'Expired URL', type: 'string' },
  { key: 'password_protected', label: 'Password Protected', type: 'boolean' },
  ...UTM_FIELDS.map(({ key, label }) => ({ key: `utm__${key}`, label, type: 'string' as const })),
] satisfies PlainOutputField[];
