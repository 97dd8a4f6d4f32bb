import { COLLECTION_NAMES, type CollectionName } from '../records.js';
import { INDEXES } from '../store.js';

/**
 * How each collection is laid out in PostgreSQL: one table per collection holding the whole record as jsonb
 * (`data`), plus plain columns copied from it for what the store looks up and orders by. A new optional field
 * in a record needs no migration; a new index does (and its column is filled from `data` by that migration).
 */
export interface TableSpec {
  collection: CollectionName;
  /** The table name, already quoted for SQL. */
  table: string;
  /** Record fields copied into columns of the same name (text, COLLATE "C"), besides id and data. */
  columns: readonly string[];
  /** Unique-index columns, and the name of the index enforcing each (how a violation is told apart). */
  unique: ReadonlyArray<{ field: string; constraint: string }>;
}

/** Fields every table has as columns when the record has them: the ordering key and the tenant. */
const COMMON = ['workspace_id', 'created_at'] as const;

/** Names and emails are unique and looked up without regard to case, as in the embedded store. */
export function normalise(field: string, value: string): string {
  return field === 'email' || field === 'name' ? value.toLowerCase() : value;
}

export function uniqueConstraintName(collection: CollectionName, field: string): string {
  return `${collection}_${field}_unique`;
}

function spec(collection: CollectionName): TableSpec {
  const indexes = INDEXES[collection] as { unique: readonly string[]; multi: readonly string[] };
  const columns = [...new Set<string>([...COMMON, ...indexes.unique, ...indexes.multi])];
  return {
    collection,
    table: `"${collection}"`,
    columns,
    unique: indexes.unique.map((field) => ({ field, constraint: uniqueConstraintName(collection, field) })),
  };
}

export const TABLES: Readonly<Record<CollectionName, TableSpec>> = Object.fromEntries(COLLECTION_NAMES.map((name) => [name, spec(name)])) as Record<CollectionName, TableSpec>;

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// in JSON.stringify's output a NUL or an unpaired surrogate is an escape, after an even number of backslashes
const UNSTORABLE_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g;

/**
 * PostgreSQL text (and jsonb) cannot hold NUL or unpaired surrogates, which JavaScript strings can: both become
 * U+FFFD, in values written and in values looked up alike (as they would in any UTF-8 file).
 */
export function storableText(value: string): string {
  return value.replace(UNSTORABLE, '\ufffd');
}

/** A record as jsonb text, with what PostgreSQL cannot hold replaced as in storableText. */
export function storableJson(record: unknown): string {
  return JSON.stringify(record).replace(UNSTORABLE_ESCAPE, '$1\\ufffd');
}

/** The column values of a record, in `spec.columns` order: strings only (anything else is NULL), unique ones normalised. */
export function columnValues(spec: TableSpec, record: Record<string, unknown>): Array<string | null> {
  return spec.columns.map((field) => {
    const value = record[field];
    if (typeof value !== 'string') return null;
    return storableText(spec.unique.some((u) => u.field === field) ? normalise(field, value) : value);
  });
}
