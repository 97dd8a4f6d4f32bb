import { createRequire } from 'node:module';

import { describe, expect, it } from 'vitest';
import type { PlainInputField, PlainOutputField } from 'zapier-platform-core';

import App from './index.js';
import { contentInputFields, QR_TYPES } from './common/qr-fields.js';

const require = createRequire(import.meta.url);
const zapierSchema = require('zapier-platform-schema') as { validateAppDefinition: (app: unknown) => { errors: unknown[] } };
// The same compile and validate steps `zapier-platform validate` runs, from the installed core.
const schemaTools = require('zapier-platform-core/src/tools/schema') as {
  compileApp: (app: unknown) => Record<string, unknown>;
  validateApp: (app: unknown) => unknown[];
  serializeApp: (app: unknown) => Record<string, unknown>;
};

type Operation = {
  key: string;
  display: { label?: string; description?: string; hidden?: boolean };
  operation: { sample?: Record<string, unknown>; outputFields?: unknown[]; inputFields?: unknown[] };
};

const groups = { triggers: App.triggers, creates: App.creates, searches: App.searches } as Record<string, Record<string, Operation>>;
const all = Object.entries(groups).flatMap(([group, items]) => Object.values(items).map((item) => ({ group, item })));
const visible = all.filter(({ item }) => !item.display.hidden);

const SMALL_WORDS = new Set(['a', 'an', 'and', 'as', 'at', 'by', 'for', 'in', 'of', 'on', 'or', 'the', 'to']);

function isTitleCase(label: string): boolean {
  return label.split(/\s+/).every((word, index) => index > 0 && SMALL_WORDS.has(word) ? true : /^[A-Z0-9(]/.test(word));
}

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

describe('app definition', () => {
  it('passes zapier-platform-schema validation after core compiles it', () => {
    const compiled = schemaTools.compileApp(App);
    expect(schemaTools.validateApp(compiled)).toEqual([]);
    const result = zapierSchema.validateAppDefinition(schemaTools.serializeApp(compiled));
    expect(result.errors).toEqual([]);
  });

  it('the schema check catches a broken definition (so the test above can fail)', () => {
    const broken = { ...App, triggers: { ...App.triggers, new_qr_code: { ...App.triggers.new_qr_code, noun: undefined } } };
    expect(schemaTools.validateApp(schemaTools.compileApp(broken)).length).toBeGreaterThan(0);
  });

  it('uses the exact platform version the app depends on', () => {
    const packageJson = require('../package.json') as { dependencies: Record<string, string>; version: string };
    expect(App.platformVersion).toBe(packageJson.dependencies['zapier-platform-core']);
    expect(App.version).toBe(packageJson.version);
  });

  it.each(all.map(({ group, item }) => [`${group}.${item.key}`, item] as const))('%s has a snake_case key', (_name, item) => {
    expect(item.key).toMatch(/^[a-z][a-z0-9_]*$/);
  });

  describe.each(visible.map(({ group, item }) => [`${group}.${item.key}`, group, item] as const))('%s', (_name, group, item) => {
    it('has a Title Case label and a description', () => {
      expect(isTitleCase(item.display.label ?? ''), item.display.label).toBe(true);
      expect(item.display.description?.length).toBeGreaterThan(10);
      if (group === 'triggers') expect(item.display.description).toMatch(/^Triggers when /);
    });

    it('has a sample with an id, and labelled, typed output fields', () => {
      expect(item.operation.sample).toHaveProperty('id');
      const outputFields = (item.operation.outputFields ?? []) as PlainOutputField[];
      expect(outputFields.length).toBeGreaterThan(0);
      for (const field of outputFields) {
        expect(field.label, field.key).toBeTruthy();
        expect(field.type, field.key).toBeTruthy();
      }
      expect(outputFields.map((field) => field.key)).toContain('id');
    });

    it('writes sample dates as ISO-8601 with a time zone', () => {
      const dates = stringsIn(item.operation.sample).filter((text) => /^\d{4}-\d{2}-\d{2}T/.test(text));
      for (const date of dates) expect(date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    });

    it('gives every input a snake_case key, a Title Case label and help text', () => {
      const fields = (item.operation.inputFields ?? []).filter((field): field is PlainInputField => typeof field === 'object');
      // a line-item parent takes no help text (Zapier ignores it there); each of its children has its own
      const all = fields.flatMap((field) => [field, ...(field.children ?? [])]);
      for (const field of all) {
        expect(field.key).toMatch(/^[a-z][a-z0-9_]*$/);
        expect(isTitleCase(field.label ?? ''), field.label).toBe(true);
        if (!field.children) expect(field.helpText?.length, field.key).toBeGreaterThan(10);
      }
    });
  });

  it.each(QR_TYPES)('the %s content fields have labels and help text', (type) => {
    for (const field of [...contentInputFields(type), ...contentInputFields(type, { forUpdate: true })]) {
      expect(field.key).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(isTitleCase(field.label ?? ''), field.label).toBe(true);
      expect(field.helpText?.length).toBeGreaterThan(10);
    }
  });

  it('asks core to let afterResponse see 429s, so quota errors can halt instead of retry', () => {
    expect(App.flags?.throwForThrottlingEarly).toBe(false);
  });
});
