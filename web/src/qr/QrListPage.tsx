import { useLocation } from 'preact-iso';
import { useEffect, useState } from 'preact/hooks';
import { messageOf } from '../api/client';
import type { Pagination, QrCode } from '../api/types';
import { Alert, Dialog } from '../ui/Dialog';
import { Loading, Page } from '../ui/Page';
import { RelativeTime } from '../ui/Time';
import { TYPE_LABEL } from './content';
import { qrApi, type QrFilters } from './qr-api';
import { QrForm } from './QrForm';

/** QR codes (/qr): search, tag and status filters, cursor paging, and Create. */
export function QrListPage() {
  const { route } = useLocation();
  const [search, setSearch] = useState('');
  const [tag, setTag] = useState('');
  const [status, setStatus] = useState<QrFilters['status']>('');
  const [applied, setApplied] = useState<QrFilters>({});
  // cursors of the pages before this one, for "Previous page"
  const [cursors, setCursors] = useState<Array<string | null>>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [page, setPage] = useState<{ data: QrCode[]; pagination: Pagination } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [creating, setCreating] = useState(false);

  useEffect(() => {
    let current = true;
    setLoading(true);
    qrApi.list({ ...applied, cursor }).then(
      (result) => {
        if (!current) return;
        setPage(result);
        setError(null);
        setLoading(false);
      },
      (caught) => {
        if (!current) return;
        setError(messageOf(caught));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [applied, cursor]);

  function applyFilters(event: Event) {
    event.preventDefault();
    setCursors([]);
    setCursor(null);
    setApplied({ search: search.trim() || undefined, tag: tag.trim() || undefined, status });
  }

  return (
    <Page
      title="QR codes"
      actions={
        <button type="button" class="button primary" onClick={() => setCreating(true)}>
          Create QR code
        </button>
      }
    >
      <form class="filters card" role="search" aria-label="Filter QR codes" onSubmit={applyFilters}>
        <div>
          <label for="qr-search">Search</label>
          <input id="qr-search" type="search" maxLength={120} placeholder="Name or destination" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </div>
        <div>
          <label for="qr-tag">Tag</label>
          <input id="qr-tag" maxLength={40} value={tag} onInput={(e) => setTag(e.currentTarget.value)} />
        </div>
        <div>
          <label for="qr-status">Status</label>
          <select id="qr-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as QrFilters['status'])}>
            <option value="">All</option>
            <option value="active">Active</option>
            <option value="paused">Paused</option>
          </select>
        </div>
        <button type="submit" class="button">
          Apply filters
        </button>
      </form>
      {error ? <Alert>{error}</Alert> : null}
      {loading && !page ? <Loading what="QR codes" /> : null}
      {page && page.data.length === 0 ? <p class="card">{cursor || applied.search || applied.tag || applied.status ? 'No codes match these filters.' : 'No QR codes yet. Create your first one.'}</p> : null}
      {page && page.data.length > 0 ? (
        <div class="card table-wrap" tabIndex={0} role="region" aria-label="QR codes">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Destination or short link</th>
                <th scope="col">Tags</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Scans
                </th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {page.data.map((qr) => (
                <tr key={qr.id}>
                  <th scope="row" class="break">
                    <a href={`/qr/${encodeURIComponent(qr.id)}`}>{qr.name}</a>
                  </th>
                  <td>
                    {TYPE_LABEL[qr.type]}
                    {qr.mode === 'static' ? <span class="muted"> · static</span> : null}
                  </td>
                  <td class="mono break">{qr.short_url ?? qr.destination_url ?? '—'}</td>
                  <td>
                    <ul class="tags">
                      {qr.tags.map((t) => (
                        <li key={t} class="tag">
                          {t}
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td>
                    <span class={`badge badge-${qr.status}`}>{qr.status === 'active' ? 'Active' : 'Paused'}</span>
                    {qr.livemode === false ? <span class="badge badge-test">Test</span> : null}
                  </td>
                  <td class="num">{qr.scan_count}</td>
                  <td>
                    <RelativeTime iso={qr.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <nav class="pager" aria-label="Pages of QR codes">
        <button
          type="button"
          class="button"
          disabled={cursors.length === 0}
          onClick={() => {
            const previous = cursors.slice(0, -1);
            setCursor(cursors[cursors.length - 1] ?? null);
            setCursors(previous);
          }}
        >
          Previous page
        </button>
        <button
          type="button"
          class="button"
          disabled={!page?.pagination.has_more}
          onClick={() => {
            if (!page?.pagination.next_cursor) return;
            setCursors([...cursors, cursor]);
            setCursor(page.pagination.next_cursor);
          }}
        >
          Next page
        </button>
      </nav>
      {creating ? (
        <Dialog title="Create QR code" onClose={() => setCreating(false)}>
          <QrForm
            submitLabel="Create code"
            onCancel={() => setCreating(false)}
            onSubmit={async (body) => {
              const created = await qrApi.create(body);
              setCreating(false);
              route(`/qr/${encodeURIComponent(created.id)}`);
            }}
          />
        </Dialog>
      ) : null}
    </Page>
  );
}
