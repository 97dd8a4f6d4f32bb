import { useEffect, useState } from 'preact/hooks';
import { messageOf } from '../api/client';
import type { ApiKey, KeyActivity } from '../api/types';
import { Alert, ConfirmDialog, Dialog } from '../ui/Dialog';
import { Loading } from '../ui/Page';
import { exactTime } from '../ui/time';
import { keysApi, RENEWALS_PER_DAY, withoutSecret } from './keys-api';
import { SecretOnce } from './SecretOnce';

/** Renew: a confirmation with the renewals left today, then the new secret once. */
export function RenewKeyDialog({ apiKey, onClose, onRenewed }: { apiKey: ApiKey; onClose: () => void; onRenewed: (key: ApiKey) => void }) {
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const left = Math.max(0, RENEWALS_PER_DAY - apiKey.renewals_last_24h);
  if (secret) {
    return (
      <Dialog title={`New secret for ${apiKey.name}`} onClose={onClose}>
        <SecretOnce secret={secret} onDone={onClose} />
      </Dialog>
    );
  }
  return (
    <ConfirmDialog
      title={`Renew “${apiKey.name}”?`}
      message={
        <>
          A new secret replaces the old one, which stops working at once: update every application that uses it. Renewals left today: <strong>{left}</strong> of {RENEWALS_PER_DAY}.
        </>
      }
      confirmLabel="Renew key"
      busy={busy}
      error={error}
      onClose={onClose}
      onConfirm={async () => {
        setBusy(true);
        try {
          const renewed = await keysApi.renew(apiKey.id);
          onRenewed(withoutSecret(renewed));
          setSecret(renewed.secret);
        } catch (caught) {
          setError(messageOf(caught));
        } finally {
          setBusy(false);
        }
      }}
    />
  );
}

export function RevokeKeyDialog({ apiKey, onClose, onRevoked }: { apiKey: ApiKey; onClose: () => void; onRevoked: (key: ApiKey) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <ConfirmDialog
      title={`Revoke “${apiKey.name}”?`}
      message={
        <>
          The key <span class="mono">{apiKey.prefix}…</span> stops working immediately and applications using it get 401 errors. This cannot be undone; the key stays listed as revoked.
        </>
      }
      confirmLabel="Revoke key"
      busy={busy}
      error={error}
      onClose={onClose}
      onConfirm={async () => {
        setBusy(true);
        try {
          onRevoked(await keysApi.revoke(apiKey.id));
          onClose();
        } catch (caught) {
          setError(messageOf(caught));
          setBusy(false);
        }
      }}
    />
  );
}

/** Review activity: the key's recent requests. */
export function ActivityDialog({ apiKey, onClose }: { apiKey: ApiKey; onClose: () => void }) {
  const [rows, setRows] = useState<KeyActivity[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    keysApi.activity(apiKey.id).then(setRows, (caught) => setError(messageOf(caught)));
  }, [apiKey.id]);
  return (
    <Dialog title={`Activity of ${apiKey.name}`} onClose={onClose}>
      {error ? <Alert>{error}</Alert> : null}
      {!rows && !error ? <Loading what="activity" /> : null}
      {rows && rows.length === 0 ? <p>No requests with this key yet.</p> : null}
      {rows && rows.length > 0 ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Recent requests">
          <table>
            <caption class="visually-hidden">The last {rows.length} requests made with this key, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Method</th>
                <th scope="col">Path</th>
                <th scope="col">Status</th>
                <th scope="col">IP</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row, i) => (
                <tr key={i}>
                  <td>{exactTime(row.time)}</td>
                  <td class="mono">{row.method}</td>
                  <td class="mono break">{row.path}</td>
                  <td>
                    <span class={row.status < 400 ? 'badge badge-active' : 'badge badge-revoked'}>{row.status}</span>
                  </td>
                  <td class="mono">{row.ip}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Dialog>
  );
}
