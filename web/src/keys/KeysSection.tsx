import { useState } from 'preact/hooks';
import { messageOf } from '../api/client';
import { dataMode } from '../api/mode';
import type { ApiKey, KeyStatus } from '../api/types';
import { Alert } from '../ui/Dialog';
import { Loading } from '../ui/Page';
import { RelativeTime } from '../ui/Time';
import { shortDate } from '../ui/time';
import { useResource } from '../ui/useResource';
import { CreateKeyDialog } from './CreateKeyDialog';
import { ActivityDialog, RenewKeyDialog, RevokeKeyDialog } from './KeyDialogs';
import { isStale, keysApi, STATUS_LABEL } from './keys-api';

/** An email address that may wrap after "@" and before each dot (not in the middle of a word). */
function breakable(email: string) {
  return email.split(/(?=\.)|(?<=@)/).flatMap((part, index) => (index === 0 ? [part] : [<wbr key={index} />, part]));
}

type Open = { kind: 'create' } | { kind: 'renew' | 'revoke' | 'activity'; key: ApiKey } | null;

/** The key list with its filter and actions (owners and admins). */
export function KeysSection({ onChange }: { onChange: () => void }) {
  const keys = useResource(keysApi.list);
  const [filter, setFilter] = useState<KeyStatus | 'all'>('all');
  // keys belong to the workspace, not to a mode: in test mode the list starts with the test keys
  const [modeFilter, setModeFilter] = useState<'all' | 'live' | 'test'>(dataMode() === 'test' ? 'test' : 'all');
  const [open, setOpen] = useState<Open>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  function replace(key: ApiKey) {
    keys.setData((list) => {
      const current = list ?? [];
      return current.some((k) => k.id === key.id) ? current.map((k) => (k.id === key.id ? key : k)) : [key, ...current];
    });
    onChange();
  }

  async function toggle(key: ApiKey) {
    setError(null);
    try {
      const next = key.status === 'paused' ? await keysApi.resume(key.id) : await keysApi.pause(key.id);
      replace(next);
      setNotice(next.status === 'paused' ? `“${key.name}” is paused: requests with it answer 401 api_key_paused until you resume it.` : `“${key.name}” is active again.`);
    } catch (caught) {
      setError(messageOf(caught));
    }
  }

  const list = (keys.data ?? []).filter((key) => (filter === 'all' || key.status === filter) && (modeFilter === 'all' || (key.mode ?? 'live') === modeFilter));
  return (
    <section aria-labelledby="keys-title" class="card">
      <div class="section-head">
        <h2 id="keys-title">API keys</h2>
        <button type="button" class="button primary" onClick={() => setOpen({ kind: 'create' })}>
          Create API key
        </button>
      </div>
      <p class="muted">Keys let software act for this workspace. The list shows each key's prefix only; a secret is shown once, when it is made.</p>
      <div class="filters">
        <div class="filter-narrow">
          <label for="key-status-filter">Status</label>
          <select id="key-status-filter" value={filter} onChange={(e) => setFilter(e.currentTarget.value as KeyStatus | 'all')}>
            <option value="all">All</option>
            <option value="active">Active</option>
            <option value="paused">Paused</option>
            <option value="revoked">Revoked</option>
            <option value="expired">Expired</option>
          </select>
        </div>
        <div class="filter-narrow">
          <label for="key-mode-filter">Key mode</label>
          <select id="key-mode-filter" value={modeFilter} onChange={(e) => setModeFilter(e.currentTarget.value as 'all' | 'live' | 'test')}>
            <option value="all">Live and test</option>
            <option value="live">Live keys</option>
            <option value="test">Test keys</option>
          </select>
        </div>
      </div>
      {error ? <Alert>{error}</Alert> : null}
      {notice ? <Alert kind="info">{notice}</Alert> : null}
      {keys.error ? <Alert>{keys.error}</Alert> : null}
      {keys.loading && !keys.data ? <Loading what="keys" /> : null}
      {keys.data && list.length === 0 ? <p>{keys.data.length === 0 ? 'No API keys yet. Create one for each integration.' : 'No keys with this status and mode.'}</p> : null}
      {list.length > 0 ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="API key list">
          <table class="keys-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key prefix</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">Status</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((key) => (
                <tr key={key.id}>
                  <th scope="row" class="break">
                    {key.name}
                    {key.mode === 'test' ? <span class="badge badge-test">Test</span> : null}
                  </th>
                  <td class="mono prefix" data-label="Key prefix">
                    {key.prefix}…
                  </td>
                  <td data-label="Scopes">
                    <ul class="scopes" aria-label={`${key.scopes.length} ${key.scopes.length === 1 ? 'scope' : 'scopes'}`}>
                      {key.scopes.map((scope) => (
                        <li key={scope} class="mono chip">
                          {scope}
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td data-label="Created">
                    <RelativeTime iso={key.created_at} />
                    {key.created_by_email ? <span class="created-by">by {breakable(key.created_by_email)}</span> : null}
                  </td>
                  <td data-label="Last used">
                    <RelativeTime iso={key.last_used_at} />
                    {isStale(key) ? <span class="badge badge-warning">Unused 90+ days: consider revoking</span> : null}
                  </td>
                  <td data-label="Expires">{key.expires_at ? shortDate(key.expires_at) : <span class="muted">Never</span>}</td>
                  <td data-label="Status">
                    <span class={`badge badge-${key.status}`}>{STATUS_LABEL[key.status]}</span>
                  </td>
                  <td data-label="Actions">
                    <div class="row-actions key-actions">
                      {key.status === 'active' || key.status === 'paused' ? (
                        <button type="button" class="button small" aria-label={`${key.status === 'paused' ? 'Resume' : 'Pause'} ${key.name}`} onClick={() => void toggle(key)}>
                          {key.status === 'paused' ? 'Resume' : 'Pause'}
                        </button>
                      ) : null}
                      {key.status !== 'revoked' ? (
                        <button type="button" class="button small" aria-label={`Renew ${key.name}`} onClick={() => setOpen({ kind: 'renew', key })}>
                          Renew
                        </button>
                      ) : null}
                      <button type="button" class="button small" aria-label={`Review activity of ${key.name}`} onClick={() => setOpen({ kind: 'activity', key })}>
                        Review activity
                      </button>
                      {key.status !== 'revoked' ? (
                        <button type="button" class="button small danger" aria-label={`Revoke ${key.name}`} onClick={() => setOpen({ kind: 'revoke', key })}>
                          Revoke
                        </button>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {open?.kind === 'create' ? <CreateKeyDialog onClose={() => setOpen(null)} onCreated={replace} /> : null}
      {open?.kind === 'renew' ? <RenewKeyDialog apiKey={open.key} onClose={() => setOpen(null)} onRenewed={replace} /> : null}
      {open?.kind === 'revoke' ? <RevokeKeyDialog apiKey={open.key} onClose={() => setOpen(null)} onRevoked={replace} /> : null}
      {open?.kind === 'activity' ? <ActivityDialog apiKey={open.key} onClose={() => setOpen(null)} /> : null}
    </section>
  );
}
