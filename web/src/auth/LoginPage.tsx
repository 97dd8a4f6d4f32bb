import { useState } from 'preact/hooks';
import { api, messageOf } from '../api/client';
import { Alert } from '../ui/Dialog';
import { useSession } from './session';

/** Email and password; the server answers with the session cookie and a CSRF token. */
export function LoginPage() {
  const { refresh, state } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signupOpen = state.status === 'signed-out' && state.setup?.signup === 'open';

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/auth/login', { email, password, cookie: true });
      setPassword('');
      // signed in: the router sends /login on to the codes
      await refresh();
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="auth-page">
      <form class="card auth-card" onSubmit={submit} aria-labelledby="login-title">
        <p class="brand">qrflow</p>
        <h1 id="login-title">Sign in</h1>
        {error ? <Alert>{error}</Alert> : null}
        <label for="login-email">Email</label>
        <input id="login-email" type="email" autoComplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="login-password">Password</label>
        <input id="login-password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {signupOpen ? (
          <p class="muted">
            New here? <a href="/setup">Create a workspace</a>.
          </p>
        ) : null}
      </form>
    </main>
  );
}
