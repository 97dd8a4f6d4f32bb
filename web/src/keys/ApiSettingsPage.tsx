import { useState } from 'preact/hooks';
import { canManage, useRole } from '../auth/session';
import { ReadOnlyNotice } from '../layout/ReadOnlyNotice';
import { Page } from '../ui/Page';
import { UsageSection } from '../usage/UsageSection';
import { KeysSection } from './KeysSection';

/** API settings (/settings/api): usage for everyone, keys for owners and admins. */
export function ApiSettingsPage() {
  const role = useRole();
  const [usageVersion, setUsageVersion] = useState(0);
  return (
    <Page title="API settings">
      <UsageSection version={usageVersion} />
      {canManage(role) ? <KeysSection onChange={() => setUsageVersion((v) => v + 1)} /> : <ReadOnlyNotice what="API keys" />}
      <section class="card" aria-labelledby="docs-title">
        <h2 id="docs-title">Documentation</h2>
        <p>
          Every endpoint, with a form to try it: open the <a href="/api-docs">API documentation</a>, choose Authorize and paste a key. Requests send it as{' '}
          <code>Authorization: Bearer qr_live_…</code>.
        </p>
      </section>
    </Page>
  );
}
