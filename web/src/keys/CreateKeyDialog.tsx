import { useState } from 'preact/hooks';
import { messageOf } from '../api/client';
import { dataMode } from '../api/mode';
import { ALL_SCOPES, type ApiKey, type Scope } from '../api/types';
import { Alert, Dialog } from '../ui/Dialog';
import { keysApi, withoutSecret } from './keys-api';
import { SecretOnce } from './SecretOnce';

const SCOPE_HELP: Record<Scope, string> = {
  'qr:read': 'read codes and images',
  'qr:write': 'create, change and delete codes',
  'analytics:read': 'read scan analytics',
  'webhooks:write': 'manage webhooks',
};

/** Create API key: name, scopes, expiry, mode and the password again; then the secret, once. */
export function CreateKeyDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (key: ApiKey) => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>([...ALL_SCOPES]);
  const [expires, setExpires] = useState('');
  const [mode, setMode] = useState<'live' | 'test'>(dataMode());
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    if (scopes.length === 0) {
      setError('Choose at least one scope.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const created = await keysApi.create({
        name: name.trim(),
        scopes,
        password,
        ...(expires ? { expires_at: new Date(`${expires}T23:59:59`).toISOString() } : {}),
        ...(mode === 'test' ? { mode: 'test' as const } : {}),
      });
      setPassword('');
      onCreated(withoutSecret(created));
      setSecret(created.secret);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={secret ? 'Your new API key' : 'Create API key'} onClose={onClose}>
      {secret ? (
        <SecretOnce secret={secret} onDone={onClose} />
      ) : (
        <form onSubmit={submit}>
          {error ? <Alert>{error}</Alert> : null}
          <label for="key-name">Name</label>
          <input id="key-name" required maxLength={64} aria-describedby="key-name-help" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <p id="key-name-help" class="help">
            Say where the key is used: “Zapier-Integration” or “Production-WebApp”, not “Key 1” or “Test”. One key per integration makes revoking easy.
          </p>
          <fieldset>
            <legend>Scopes</legend>
            {ALL_SCOPES.map((scope) => (
              <label key={scope} class="check">
                <input
                  type="checkbox"
                  checked={scopes.includes(scope)}
                  onChange={(e) => setScopes(e.currentTarget.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))}
                />
                <span class="mono">{scope}</span> <span class="muted">— {SCOPE_HELP[scope]}</span>
              </label>
            ))}
          </fieldset>
          <fieldset>
            <legend>Mode</legend>
            <label class="check">
              <input type="radio" name="key-mode" checked={mode === 'live'} onChange={() => setMode('live')} /> Live <span class="muted">— real codes, counts against the plan</span>
            </label>
            <label class="check">
              <input type="radio" name="key-mode" checked={mode === 'test'} onChange={() => setMode('test')} /> Test mode <span class="muted">— a qr_test_ key for trying things out</span>
            </label>
          </fieldset>
          <label for="key-expires">Expires on (optional)</label>
          <input id="key-expires" type="date" aria-describedby="key-expires-help" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
          <p id="key-expires-help" class="help">
            Leave empty for a key that does not expire.
          </p>
          <label for="key-password">Your password</label>
          <input id="key-password" type="password" autoComplete="current-password" required aria-describedby="key-password-help" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          <p id="key-password-help" class="help">
            Creating a key needs your password again.
          </p>
          <div class="actions">
            <button type="button" class="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" class="button primary" disabled={busy}>
              {busy ? 'Creating…' : 'Create key'}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
