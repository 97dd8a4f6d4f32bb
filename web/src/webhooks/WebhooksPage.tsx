import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, messageOf } from '../api/client';
import type { DeliveryAttempt, Webhook } from '../api/types';
import { SecretOnce } from '../keys/SecretOnce';
import { Alert, ConfirmDialog, Dialog } from '../ui/Dialog';
import { Loading, Page } from '../ui/Page';
import { RelativeTime } from '../ui/Time';
import { exactTime } from '../ui/time';
import { useResource } from '../ui/useResource';

const EVENT_HELP: Record<string, string> = {
  'qr.created': 'a code is created',
  'qr.updated': 'a code is changed',
  'qr.deleted': 'a code is deleted',
  'qr.scanned': 'a code is scanned',
};

function AddWebhookDialog({ eventTypes, onClose, onAdded }: { eventTypes: string[]; onClose: () => void; onAdded: (hook: Webhook) => void }) {
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['qr.scanned']);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    if (events.length === 0) {
      setError('Choose at least one event.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { secret: signingSecret, ...hook } = (await api.post<{ data: Webhook & { secret: string } }>('/api/v1/webhooks', { url: url.trim(), events })).data;
      onAdded(hook);
      setSecret(signingSecret);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Dialog title={secret ? 'Webhook added' : 'Add webhook'} onClose={onClose}>
      {secret ? (
        <>
          <p>qrflow signs every delivery with this secret (header <code>QRflow-Signature</code>); check it in your receiver.</p>
          <SecretOnce secret={secret} what="signing secret" onDone={onClose} />
        </>
      ) : (
        <form onSubmit={submit}>
          {error ? <Alert>{error}</Alert> : null}
          <label for="webhook-url">Receiver URL</label>
          <input id="webhook-url" type="url" required maxLength={2048} placeholder="https://hooks.example.com/qrflow" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          <fieldset>
            <legend>Events</legend>
            {eventTypes.map((type) => (
              <label key={type} class="check">
                <input type="checkbox" checked={events.includes(type)} onChange={(e) => setEvents(e.currentTarget.checked ? [...events, type] : events.filter((t) => t !== type))} />
                <span class="mono">{type}</span> <span class="muted">— {EVENT_HELP[type] ?? ''}</span>
              </label>
            ))}
          </fieldset>
          <div class="actions">
            <button type="button" class="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" class="button primary" disabled={busy}>
              Add webhook
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

function DeliveryLog({ hook, version }: { hook: Webhook; version: number }) {
  const log = useResource(async () => (await api.get<{ data: DeliveryAttempt[] }>(`/api/v1/webhooks/${encodeURIComponent(hook.id)}/deliveries`)).data, [hook.id, version]);
  if (log.error) return <Alert>{log.error}</Alert>;
  if (!log.data) return <Loading what="deliveries" />;
  return (
    <div>
      <div class="section-head">
        <h4>Delivery log</h4>
        <button type="button" class="button small" aria-label={`Refresh the delivery log of ${hook.url}`} onClick={() => void log.reload()}>
          Refresh
        </button>
      </div>
      {log.data.length === 0 ? (
        <p class="muted">No deliveries yet.</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={`Deliveries to ${hook.url}`}>
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Event</th>
                <th scope="col">Status code</th>
                <th scope="col" class="num">
                  Duration
                </th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {log.data.map((attempt, i) => (
                <tr key={`${attempt.event_id}-${i}`}>
                  <td>{exactTime(attempt.attempted_at)}</td>
                  <td class="mono break">{attempt.event_id}</td>
                  <td>
                    <span class={attempt.status_code !== null && attempt.status_code < 300 ? 'badge badge-active' : 'badge badge-revoked'}>{attempt.status_code ?? 'no response'}</span>
                  </td>
                  <td class="num">{attempt.duration_ms} ms</td>
                  <td class="break">{attempt.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function WebhookCard({ hook, onDelete }: { hook: Webhook; onDelete: () => void }) {
  const [version, setVersion] = useState(0);
  const [testResult, setTestResult] = useState<{ kind: 'success' | 'error' | 'info'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  async function sendTest() {
    setBusy(true);
    setTestResult(null);
    try {
      const result = (await api.post<{ data: { status_code: number | null; duration_ms: number; error: string | null } }>(`/api/v1/webhooks/${encodeURIComponent(hook.id)}/test`)).data;
      const ok = result.status_code !== null && result.status_code < 300;
      setTestResult({ kind: ok ? 'success' : 'error', text: ok ? `Test event delivered: ${result.status_code} in ${result.duration_ms} ms.` : `Test event failed: ${result.status_code ?? 'no response'}${result.error ? ` (${result.error})` : ''}.` });
      setVersion((v) => v + 1);
    } catch (caught) {
      // an older server without the test endpoint answers its generic "There is no POST … endpoint" 404
      const missing = caught instanceof ApiError && caught.status === 404 && /^There is no /.test(caught.message);
      setTestResult({ kind: 'error', text: missing ? 'This server cannot send test events yet.' : messageOf(caught) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <article class="card webhook" aria-label={`Webhook ${hook.url}`}>
      <div class="section-head">
        <h3 class="mono break">{hook.url}</h3>
        <span class={`badge badge-${hook.status === 'active' ? 'active' : 'revoked'}`}>{hook.status === 'active' ? 'Active' : 'Disabled'}</span>
      </div>
      {hook.disabled_reason ? <Alert kind="warning">{hook.disabled_reason}</Alert> : null}
      <p>
        Events:{' '}
        {hook.events.map((e) => (
          <span key={e} class="tag mono">
            {e}
          </span>
        ))}{' '}
        · added <RelativeTime iso={hook.created_at} />
      </p>
      <div class="row-actions">
        <button type="button" class="button small" disabled={busy} aria-label={`Send test event to ${hook.url}`} onClick={() => void sendTest()}>
          Send test event
        </button>
        <button type="button" class="button small danger" aria-label={`Delete webhook ${hook.url}`} onClick={onDelete}>
          Delete
        </button>
      </div>
      {testResult ? <Alert kind={testResult.kind}>{testResult.text}</Alert> : null}
      <DeliveryLog hook={hook} version={version} />
    </article>
  );
}

/** Webhooks (/webhooks): list, add (the signing secret once), delivery logs, test events, delete. */
export function WebhooksPage() {
  const hooks = useResource(async () => (await api.get<{ data: Webhook[] }>('/api/v1/webhooks')).data);
  const [eventTypes, setEventTypes] = useState<string[]>(['qr.created', 'qr.updated', 'qr.deleted', 'qr.scanned']);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.get<{ data: string[] }>('/api/v1/events/types').then((r) => setEventTypes(r.data), () => undefined);
  }, []);
  return (
    <Page
      title="Webhooks"
      actions={
        <button type="button" class="button primary" onClick={() => setAdding(true)}>
          Add webhook
        </button>
      }
    >
      <p class="muted">qrflow POSTs each event to your receivers as JSON, signed, and retries failed deliveries with backoff.</p>
      {hooks.error ? <Alert>{hooks.error}</Alert> : null}
      {!hooks.data && hooks.loading ? <Loading what="webhooks" /> : null}
      {hooks.data && hooks.data.length === 0 ? <p class="card">No webhooks yet.</p> : null}
      {hooks.data?.map((hook) => <WebhookCard key={hook.id} hook={hook} onDelete={() => setDeleting(hook)} />)}
      {adding ? <AddWebhookDialog eventTypes={eventTypes} onClose={() => setAdding(false)} onAdded={(hook) => hooks.setData((list) => [hook, ...(list ?? [])])} /> : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete this webhook?"
          message={
            <>
              Deliveries to <span class="mono break">{deleting.url}</span> stop at once.
            </>
          }
          confirmLabel="Delete webhook"
          error={error}
          onClose={() => {
            setDeleting(null);
            setError(null);
          }}
          onConfirm={async () => {
            try {
              await api.delete(`/api/v1/webhooks/${encodeURIComponent(deleting.id)}`);
              hooks.setData((list) => (list ?? []).filter((h) => h.id !== deleting.id));
              setDeleting(null);
            } catch (caught) {
              setError(messageOf(caught));
            }
          }}
        />
      ) : null}
    </Page>
  );
}
