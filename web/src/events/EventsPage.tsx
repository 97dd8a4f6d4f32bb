import { useEffect, useState } from 'preact/hooks';
import { api, messageOf, withQuery } from '../api/client';
import type { FeedEvent, Pagination } from '../api/types';
import { Alert } from '../ui/Dialog';
import { Loading, Page } from '../ui/Page';
import { RelativeTime } from '../ui/Time';

const TYPES = ['qr.created', 'qr.updated', 'qr.deleted', 'qr.scanned'];

function summary(event: FeedEvent): string {
  const data = event.data;
  const name = typeof data.name === 'string' ? data.name : typeof data.qr_name === 'string' ? data.qr_name : null;
  if (event.type === 'qr.scanned') {
    const where = [data.country, data.device, data.os].filter((v) => typeof v === 'string' && v).join(', ');
    return `${name ?? 'A code'} was scanned${where ? ` (${where})` : ''}`;
  }
  const verb = event.type === 'qr.created' ? 'created' : event.type === 'qr.updated' ? 'updated' : 'deleted';
  return `${name ?? 'A code'} was ${verb}`;
}

/** The events feed (/events): what webhooks deliver, newest first, with a type filter and paging. */
export function EventsPage() {
  const [type, setType] = useState('');
  const [cursor, setCursor] = useState<string | null>(null);
  const [events, setEvents] = useState<FeedEvent[]>([]);
  const [pagination, setPagination] = useState<Pagination | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    let current = true;
    setLoading(true);
    api.get<{ data: FeedEvent[]; pagination: Pagination }>(withQuery('/api/v1/events', { type, cursor, limit: 25 })).then(
      (page) => {
        if (!current) return;
        setEvents((previous) => (cursor ? [...previous, ...page.data] : page.data));
        setPagination(page.pagination);
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
  }, [type, cursor]);

  return (
    <Page title="Events">
      <div class="filters card">
        <div class="filter-narrow">
        <label for="event-type">Event type</label>
        <select
          id="event-type"
          value={type}
          onChange={(e) => {
            setCursor(null);
            setType(e.currentTarget.value);
          }}
        >
          <option value="">All events</option>
          {TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        </div>
      </div>
      {error ? <Alert>{error}</Alert> : null}
      {loading && events.length === 0 ? <Loading what="events" /> : null}
      {!loading && events.length === 0 && !error ? <p class="card">No events yet: they appear when codes are created, changed, deleted or scanned.</p> : null}
      {events.length > 0 ? (
        <ol class="card feed" aria-label="Events, newest first">
          {events.map((event) => (
            <li key={event.id}>
              <span class="tag mono">{event.type}</span> <span class="break">{summary(event)}</span> <RelativeTime iso={event.created_at} />
            </li>
          ))}
        </ol>
      ) : null}
      {pagination?.has_more ? (
        <button type="button" class="button" disabled={loading} onClick={() => setCursor(pagination.next_cursor)}>
          Load more events
        </button>
      ) : null}
    </Page>
  );
}
