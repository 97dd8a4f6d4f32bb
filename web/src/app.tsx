import { lazy, LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { useEffect } from 'preact/hooks';
import { LoginPage } from './auth/LoginPage';
import { useSession } from './auth/session';
import { EventsPage } from './events/EventsPage';
import { ApiSettingsPage } from './keys/ApiSettingsPage';
import { Shell } from './layout/Shell';
import { MembersPage } from './members/MembersPage';
import { QrListPage } from './qr/QrListPage';
import { ImportPage } from './qr/ImportPage';
import { SetupPage } from './setup/SetupPage';
import { Alert } from './ui/Dialog';
import { Page } from './ui/Page';
import { WebhooksPage } from './webhooks/WebhooksPage';

// a code's page (and, from it, the charting library) loads only when someone opens one
const QrDetailPage = lazy(() => import('./qr/QrDetailPage').then((m) => m.QrDetailPage));

function Redirect({ to }: { to: string }) {
  const { route } = useLocation();
  useEffect(() => route(to, true), [to]);
  return null;
}

function NotFound() {
  return (
    <Page title="Page not found">
      <p>
        There is no console page here. Go to <a href="/qr">QR codes</a> or <a href="/settings/api">API settings</a>.
      </p>
    </Page>
  );
}

function Routes() {
  const { state } = useSession();
  const { path } = useLocation();
  if (state.status === 'loading') {
    return (
      <main class="auth-page">
        <p role="status">Loading the console…</p>
      </main>
    );
  }
  if (state.status === 'unreachable') {
    return (
      <main class="auth-page">
        <h1>qrflow</h1>
        <Alert>{state.message}</Alert>
      </main>
    );
  }
  if (state.status === 'needs-setup') {
    if (path !== '/setup') return <Redirect to="/setup" />;
    return <SetupPage setup={state.setup} />;
  }
  if (state.status === 'signed-out') {
    if (path === '/setup' && state.setup?.signup === 'open') return <SetupPage setup={state.setup} />;
    if (path !== '/login') return <Redirect to="/login" />;
    return <LoginPage />;
  }
  if (path === '/login' || path === '/setup' || path === '/') return <Redirect to="/qr" />;
  return (
    <Shell>
      <Router>
        <Route path="/qr" component={QrListPage} />
        <Route path="/qr/import" component={ImportPage} />
        <Route path="/qr/:id" component={QrDetailPage} />
        <Route path="/settings/api" component={ApiSettingsPage} />
        <Route path="/settings/members" component={MembersPage} />
        <Route path="/webhooks" component={WebhooksPage} />
        <Route path="/events" component={EventsPage} />
        <Route default component={NotFound} />
      </Router>
    </Shell>
  );
}

export function App() {
  return (
    <LocationProvider>
      <Routes />
    </LocationProvider>
  );
}
