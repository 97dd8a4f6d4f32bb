import { useState } from 'preact/hooks';
import { api, messageOf } from '../api/client';
import type { SetupInfo } from '../api/types';
import { useSession } from '../auth/session';
import { Alert } from '../ui/Dialog';

/** First run: the workspace and its owner, signed in at once. */
export function SetupPage({ setup }: { setup: SetupInfo }) {
  const { refresh } = useSession();
  const [workspaceName, setWorkspaceName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const rules = setup.password_rules;
  const tooShort = password.length > 0 && password.length < rules.min_length;

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/setup', { workspace_name: workspaceName, email, password });
      setPassword('');
      await refresh();
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="auth-page">
      <form class="card auth-card" onSubmit={submit} aria-labelledby="setup-title">
        <p class="brand">qrflow</p>
        <h1 id="setup-title">Create your workspace</h1>
        <p class="muted">You will be its owner. You can add members afterwards.</p>
        {error ? <Alert>{error}</Alert> : null}
        <label for="setup-workspace">Workspace name</label>
        <input id="setup-workspace" required maxLength={120} value={workspaceName} onInput={(e) => setWorkspaceName(e.currentTarget.value)} />
        <label for="setup-email">Owner email</label>
        <input id="setup-email" type="email" autoComplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="setup-password">Password</label>
        <input
          id="setup-password"
          type="password"
          autoComplete="new-password"
          required
          minLength={rules.min_length}
          maxLength={rules.max_length}
          aria-describedby="setup-password-rules"
          aria-invalid={tooShort}
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <p id="setup-password-rules" class="help">
          {rules.text}
        </p>
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create workspace'}
        </button>
      </form>
    </main>
  );
}
