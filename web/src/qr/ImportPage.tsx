import Papa from 'papaparse';
import { useState } from 'preact/hooks';
import { messageOf } from '../api/client';
import type { BulkItemResult, QrCode } from '../api/types';
import { Alert } from '../ui/Dialog';
import { Page } from '../ui/Page';
import { parseTags, qrApi } from './qr-api';

/** What one bulk call takes (the server's limit). */
const CHUNK = 100;
/** Bounds of one import, so a wrong file cannot freeze the tab or send thousands of calls. */
const MAX_ROWS = 2000;
const MAX_BYTES = 2 * 1024 * 1024;

type FieldKey = 'name' | 'destination_url' | 'tags' | 'domain' | 'status';
const FIELDS: ReadonlyArray<{ key: FieldKey; label: string; required?: true; guesses: string[] }> = [
  { key: 'name', label: 'Name', required: true, guesses: ['name', 'title', 'label'] },
  { key: 'destination_url', label: 'Destination URL', required: true, guesses: ['destination_url', 'destination', 'url', 'link', 'target'] },
  { key: 'tags', label: 'Tags', guesses: ['tags', 'tag'] },
  { key: 'domain', label: 'Domain', guesses: ['domain', 'custom_domain'] },
  { key: 'status', label: 'Status', guesses: ['status'] },
];

type Mapping = Record<FieldKey, string>;
/** A row's check or creation: ok (with the code once created), or the server's sentence for what is wrong. */
type RowResult = { ok: true; code?: QrCode } | { ok: false; message: string };

function normalise(header: string): string {
  return header.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

/** The column each field most likely comes from, by its header. */
function guessMapping(headers: string[]): Mapping {
  const mapping = {} as Mapping;
  for (const field of FIELDS) mapping[field.key] = headers.find((h) => field.guesses.includes(normalise(h))) ?? '';
  return mapping;
}

/** The create body of a row: mapped, non-empty cells only (the server says what is missing). */
function bodyOf(row: Record<string, string>, mapping: Mapping): Record<string, unknown> {
  const cell = (key: FieldKey) => (mapping[key] ? (row[mapping[key]] ?? '').trim() : '');
  const body: Record<string, unknown> = {};
  if (cell('name')) body.name = cell('name');
  if (cell('destination_url')) body.destination_url = cell('destination_url');
  if (cell('tags')) body.tags = parseTags(cell('tags').replace(/[;|]/g, ','));
  if (cell('domain')) body.domain = cell('domain');
  if (cell('status')) body.status = cell('status').toLowerCase();
  return body;
}

function messageOfItem(item: BulkItemResult): string {
  if (!item.error) return '';
  const fields = (item.error.details ?? []).map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)).join('; ');
  return fields && !item.error.message.includes(fields) ? `${item.error.message} (${fields})` : item.error.message;
}

/** A random key per chunk of an import, so retrying a failed call cannot create its codes twice. */
function importKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `csv-import-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function downloadCsv(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Import QR codes from a CSV file (/qr/import): columns mapped to fields, a check of every row by the server before
 * anything is created (POST /api/v1/qr/bulk?dry_run=true), then the good rows created in calls of up to 100, each
 * row's result, and a CSV of the created codes with their short links.
 */
export function ImportPage() {
  const [fileName, setFileName] = useState('');
  const [headers, setHeaders] = useState<string[]>([]);
  const [rows, setRows] = useState<Array<Record<string, string>>>([]);
  const [mapping, setMapping] = useState<Mapping>(guessMapping([]));
  const [checked, setChecked] = useState<RowResult[] | null>(null);
  const [created, setCreated] = useState<RowResult[] | null>(null);
  const [keys, setKeys] = useState<string[]>([]);
  const [busy, setBusy] = useState<'' | 'checking' | 'creating'>('');
  const [error, setError] = useState<string | null>(null);

  function reset() {
    setChecked(null);
    setCreated(null);
    setKeys([]);
    setError(null);
  }

  function readFile(file: File | undefined) {
    reset();
    setHeaders([]);
    setRows([]);
    if (!file) return;
    setFileName(file.name);
    if (file.size > MAX_BYTES) {
      setError(`${file.name} is larger than 2 MB. Split it into smaller files.`);
      return;
    }
    Papa.parse<Record<string, string>>(file, {
      header: true,
      skipEmptyLines: 'greedy',
      complete: (result) => {
        const fields = (result.meta.fields ?? []).filter((f) => f.trim() !== '');
        if (fields.length === 0 || result.data.length === 0) {
          setError(`${file.name} has no rows under a header line. The first line must name the columns (for example name,destination_url,tags).`);
          return;
        }
        if (result.data.length > MAX_ROWS) {
          setError(`${file.name} has ${result.data.length} rows; an import takes at most ${MAX_ROWS}. Split the file.`);
          return;
        }
        setHeaders(fields);
        setRows(result.data);
        setMapping(guessMapping(fields));
      },
      error: (problem) => setError(`${file.name} could not be read as CSV: ${problem.message}`),
    });
  }

  const missing = FIELDS.filter((f) => f.required && !mapping[f.key]);

  /** Sends the bodies in calls of up to 100 and returns one result per body, in order. */
  async function inChunks(bodies: Array<Record<string, unknown>>, call: (chunk: Array<Record<string, unknown>>, n: number) => Promise<BulkItemResult[]>): Promise<RowResult[]> {
    const results: RowResult[] = [];
    for (let start = 0, n = 0; start < bodies.length; start += CHUNK, n++) {
      const answer = await call(bodies.slice(start, start + CHUNK), n);
      for (const item of answer) results[start + item.index] = item.error ? { ok: false, message: messageOfItem(item) } : { ok: true, ...(item.status === 201 ? { code: item.data as QrCode } : {}) };
    }
    return results;
  }

  async function check() {
    reset();
    setBusy('checking');
    try {
      setChecked(await inChunks(rows.map((row) => bodyOf(row, mapping)), (chunk) => qrApi.bulkCreate(chunk, { dryRun: true })));
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy('');
    }
  }

  const goodRows = checked ? rows.map((_, i) => i).filter((i) => checked[i]?.ok) : [];

  async function create() {
    if (!checked) return;
    setBusy('creating');
    setError(null);
    // the same keys on a retry after a failure: calls that went through answer their first results
    const chunkKeys = keys.length > 0 ? keys : Array.from({ length: Math.ceil(goodRows.length / CHUNK) }, importKey);
    setKeys(chunkKeys);
    try {
      const results = await inChunks(
        goodRows.map((i) => bodyOf(rows[i]!, mapping)),
        (chunk, n) => qrApi.bulkCreate(chunk, { idempotencyKey: chunkKeys[n]! }),
      );
      const byRow: RowResult[] = rows.map((_, i) => checked[i] ?? { ok: false, message: 'Not checked' });
      goodRows.forEach((row, n) => (byRow[row] = results[n] ?? { ok: false, message: 'No answer for this row' }));
      setCreated(byRow);
    } catch (caught) {
      setError(`${messageOf(caught)} Nothing is lost: press "Create codes" again to finish (rows already created are not created twice).`);
    } finally {
      setBusy('');
    }
  }

  function downloadResults() {
    if (!created) return;
    const lines = created.flatMap((result, i) => (result.ok && result.code ? [{ row: i + 2, id: result.code.id, name: result.code.name, destination_url: result.code.destination_url ?? '', short_url: result.code.short_url ?? '', tags: result.code.tags.join(', ') }] : []));
    downloadCsv(`${fileName.replace(/\.csv$/i, '') || 'import'}-created.csv`, Papa.unparse(lines, { columns: ['row', 'id', 'name', 'destination_url', 'short_url', 'tags'] }));
  }

  const shown = created ?? checked;
  const bad = shown ? shown.filter((r) => !r.ok).length : 0;
  const made = created ? created.filter((r) => r.ok && r.code).length : 0;

  return (
    <Page title="Import QR codes from CSV">
      <div class="card">
        <p>
          A header line names the columns; each further line becomes a dynamic code. Up to {MAX_ROWS} rows. Every row is checked by the server before anything is created.
        </p>
        <label for="import-file">CSV file</label>
        <input id="import-file" type="file" accept=".csv,text/csv" onChange={(e) => readFile(e.currentTarget.files?.[0])} />
      </div>
      {error ? <Alert>{error}</Alert> : null}
      {headers.length > 0 ? (
        <form
          class="card"
          aria-label="Column mapping"
          onSubmit={(event) => {
            event.preventDefault();
            void check();
          }}
        >
          <h2>Columns</h2>
          <p class="muted">
            {rows.length} row{rows.length === 1 ? '' : 's'} in {fileName}. Choose the column of each field.
          </p>
          <div class="filters">
            {FIELDS.map((field) => (
              <div key={field.key}>
                <label for={`map-${field.key}`}>
                  {field.label}
                  {field.required ? ' (required)' : ''}
                </label>
                <select
                  id={`map-${field.key}`}
                  value={mapping[field.key]}
                  onChange={(e) => {
                    reset();
                    setMapping({ ...mapping, [field.key]: e.currentTarget.value });
                  }}
                >
                  <option value="">Not imported</option>
                  {headers.map((h) => (
                    <option key={h} value={h}>
                      {h}
                    </option>
                  ))}
                </select>
              </div>
            ))}
          </div>
          {missing.length > 0 ? <p role="status">Choose a column for {missing.map((f) => f.label).join(' and ')}.</p> : null}
          <button type="submit" class="button" disabled={missing.length > 0 || busy !== ''}>
            {busy === 'checking' ? 'Checking…' : 'Check rows'}
          </button>
        </form>
      ) : null}
      {shown ? (
        <section class="card" aria-label={created ? 'Import results' : 'Check results'}>
          <h2>{created ? 'Results' : 'Check'}</h2>
          <p role="status">
            {created
              ? `${made} code${made === 1 ? '' : 's'} created${bad ? `, ${bad} row${bad === 1 ? '' : 's'} not imported` : ''}.`
              : `${rows.length - bad} row${rows.length - bad === 1 ? '' : 's'} ready${bad ? `, ${bad} with errors (they will be skipped)` : ''}.`}
          </p>
          <div class="page-actions">
            {!created ? (
              <button type="button" class="button primary" disabled={goodRows.length === 0 || busy !== ''} onClick={() => void create()}>
                {busy === 'creating' ? 'Creating…' : `Create ${goodRows.length} code${goodRows.length === 1 ? '' : 's'}`}
              </button>
            ) : (
              <button type="button" class="button primary" disabled={made === 0} onClick={downloadResults}>
                Download created codes (CSV)
              </button>
            )}
          </div>
          <div class="table-wrap" tabIndex={0} role="region" aria-label="Rows">
            <table>
              <thead>
                <tr>
                  <th scope="col" class="num">
                    Line
                  </th>
                  <th scope="col">Name</th>
                  <th scope="col">{created ? 'Short link' : 'Destination URL'}</th>
                  <th scope="col">Result</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row, i) => {
                  const result = shown[i];
                  const body = bodyOf(row, mapping);
                  return (
                    <tr key={i}>
                      <td class="num">{i + 2}</td>
                      <th scope="row" class="break">
                        {String(body.name ?? '—')}
                      </th>
                      <td class="mono break">{created && result?.ok && result.code ? result.code.short_url : String(body.destination_url ?? '—')}</td>
                      <td class="break">{result?.ok ? (created ? (result.code ? 'Created' : 'Skipped') : 'Ready') : <span class="error-text">{result?.message ?? '—'}</span>}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
    </Page>
  );
}
