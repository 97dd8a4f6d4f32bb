import type { ComponentType } from 'preact';
import { useLocation, useRoute } from 'preact-iso';
import { useEffect, useState } from 'preact/hooks';
import { messageOf } from '../api/client';
import type { QrCode } from '../api/types';
import { CopyButton } from '../ui/CopyButton';
import { Alert, ConfirmDialog } from '../ui/Dialog';
import { Loading, Page } from '../ui/Page';
import { exactTime } from '../ui/time';
import { useResource } from '../ui/useResource';
import { TYPE_LABEL } from './content';
import { fetchImage, qrApi } from './qr-api';
import { QrForm } from './QrForm';

const SIZES = [256, 512, 1024, 2048];

/** The charts (and Chart.js) arrive only when a code's page opens. */
function LazyAnalytics({ qr }: { qr: QrCode }) {
  const [Panel, setPanel] = useState<ComponentType<{ qr: QrCode }> | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    import('../analytics/AnalyticsPanel').then((m) => setPanel(() => m.AnalyticsPanel), () => setFailed(true));
  }, []);
  if (failed) return <Alert>The analytics could not be loaded. Reload the page to try again.</Alert>;
  return Panel ? <Panel qr={qr} /> : <Loading what="analytics" />;
}

/** The code's current image, fetched as a Blob (so an edited style shows at once). */
function QrImage({ qr }: { qr: QrCode }) {
  const [src, setSrc] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let url: string | null = null;
    let current = true;
    fetchImage(qr, 'svg', 256).then(
      (blob) => {
        if (!current) return;
        url = URL.createObjectURL(blob);
        setSrc(url);
      },
      (caught) => current && setError(messageOf(caught)),
    );
    return () => {
      current = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [qr.id, qr.updated_at]);
  if (error) return <Alert>{error}</Alert>;
  return src ? <img class="qr-image" src={src} width={192} height={192} alt={`QR code of ${qr.name}`} /> : <div class="qr-placeholder">Loading the image…</div>;
}

function Download({ qr }: { qr: QrCode }) {
  const [format, setFormat] = useState<'png' | 'svg'>('png');
  const [size, setSize] = useState(512);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const safeName = qr.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || qr.id;
  async function download() {
    setBusy(true);
    setError(null);
    try {
      const url = URL.createObjectURL(await fetchImage(qr, format, size));
      const link = document.createElement('a');
      link.href = url;
      link.download = `${safeName}-${size}.${format}`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="download">
      <div>
        <label for="download-format">Format</label>
        <select id="download-format" value={format} onChange={(e) => setFormat(e.currentTarget.value as 'png' | 'svg')}>
          <option value="png">PNG</option>
          <option value="svg">SVG</option>
        </select>
      </div>
      <div>
        <label for="download-size">Size (pixels)</label>
        <select id="download-size" value={size} onChange={(e) => setSize(Number(e.currentTarget.value))}>
          {SIZES.map((s) => (
            <option key={s} value={s}>
              {s} × {s}
            </option>
          ))}
        </select>
      </div>
      <button type="button" class="button primary" disabled={busy} onClick={() => void download()}>
        Download {format.toUpperCase()}
      </button>
      {error ? <Alert>{error}</Alert> : null}
    </div>
  );
}

/** A code's page (/qr/:id): image, download, edit, pause/resume, delete, and its analytics. */
export function QrDetailPage() {
  const { params } = useRoute();
  const { route } = useLocation();
  const id = params.id ?? '';
  const qr = useResource(() => qrApi.get(id), [id]);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const code = qr.data;

  if (!code) {
    return <Page title="QR code">{qr.error ? <Alert>{qr.error}</Alert> : <Loading what="the code" />}</Page>;
  }

  async function toggleStatus(current: QrCode) {
    setError(null);
    try {
      const updated = await qrApi.update(current.id, { status: current.status === 'active' ? 'paused' : 'active' });
      qr.setData(updated);
      setNotice(updated.status === 'paused' ? 'Paused: scans of its short link now show a "paused" page.' : 'Active again: scans redirect to the destination.');
    } catch (caught) {
      setError(messageOf(caught));
    }
  }

  return (
    <Page
      title={code.name}
      actions={
        <>
          <button type="button" class="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
            {editing ? 'Close editor' : 'Edit'}
          </button>
          <button type="button" class="button" onClick={() => void toggleStatus(code)}>
            {code.status === 'active' ? 'Pause' : 'Resume'}
          </button>
          <button type="button" class="button danger" onClick={() => setDeleting(true)}>
            Delete
          </button>
        </>
      }
    >
      <p>
        <a href="/qr">← All QR codes</a>
      </p>
      {error ? <Alert>{error}</Alert> : null}
      {notice ? <Alert kind="info">{notice}</Alert> : null}
      <div class="qr-detail card">
        <QrImage qr={code} />
        <dl class="facts">
          <dt>Status</dt>
          <dd>
            <span class={`badge badge-${code.status}`}>{code.status === 'active' ? 'Active' : 'Paused'}</span>
                    {code.livemode === false ? <span class="badge badge-test">Test</span> : null}
          </dd>
          <dt>Type</dt>
          <dd>
            {TYPE_LABEL[code.type]} · {code.mode}
          </dd>
          {code.short_url ? (
            <>
              <dt>Short link</dt>
              <dd class="mono break">
                {code.short_url} <CopyButton text={code.short_url} label="Copy link" />
              </dd>
            </>
          ) : null}
          {code.destination_url ? (
            <>
              <dt>Destination</dt>
              <dd class="mono break">{code.destination_url}</dd>
            </>
          ) : null}
          <dt>Tags</dt>
          <dd>
            {code.tags.length ? (
              <ul class="tags">
                {code.tags.map((t) => (
                  <li key={t} class="tag">
                    {t}
                  </li>
                ))}
              </ul>
            ) : (
              <span class="muted">None</span>
            )}
          </dd>
          <dt>Scans</dt>
          <dd>{code.scan_count}</dd>
          <dt>Updated</dt>
          <dd>{exactTime(code.updated_at)}</dd>
        </dl>
      </div>
      <section class="card" aria-labelledby="download-title">
        <h2 id="download-title">Download</h2>
        <Download qr={code} />
      </section>
      {editing ? (
        <section class="card" aria-labelledby="edit-title">
          <h2 id="edit-title">Edit</h2>
          <QrForm
            key={code.updated_at}
            existing={code}
            submitLabel="Save changes"
            onCancel={() => setEditing(false)}
            onSubmit={async (body) => {
              qr.setData(await qrApi.update(code.id, body));
              setEditing(false);
              setNotice('Saved.');
            }}
          />
        </section>
      ) : null}
      {code.mode === 'dynamic' ? <LazyAnalytics qr={code} /> : <p class="card muted">Static codes hold their content directly, so their scans are not counted.</p>}
      {deleting ? (
        <ConfirmDialog
          title={`Delete “${code.name}”?`}
          message="Its short link stops working and its analytics are gone. This cannot be undone."
          confirmLabel="Delete code"
          busy={busy}
          error={error}
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            setBusy(true);
            try {
              await qrApi.remove(code.id);
              route('/qr');
            } catch (caught) {
              setError(messageOf(caught));
              setBusy(false);
            }
          }}
        />
      ) : null}
    </Page>
  );
}
