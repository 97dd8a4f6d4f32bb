import { useEffect } from 'preact/hooks';
import { api } from '../api/client';
import type { Usage } from '../api/types';
import { useSession } from '../auth/session';
import { Alert } from '../ui/Dialog';
import { Loading } from '../ui/Page';
import { shortDate } from '../ui/time';
import { useResource } from '../ui/useResource';

const number = new Intl.NumberFormat('en');

function Meter({ id, label, used, limit }: { id: string; label: string; used: number; limit: number }) {
  const share = limit > 0 ? Math.min(1, used / limit) : 0;
  return (
    <div class="meter">
      <div class="meter-label">
        <label for={id}>{label}</label>
        <span id={`${id}-text`}>
          {number.format(used)} / {number.format(limit)}
        </span>
      </div>
      <progress id={id} class={share >= 0.9 ? 'high' : ''} max={limit} value={Math.min(used, limit)} aria-describedby={`${id}-text`}>
        {Math.round(share * 100)}%
      </progress>
    </div>
  );
}

/** Usage: the month's meters, the per-minute limit, the split per key, the plan and its status. */
export function UsageSection({ version }: { version: number }) {
  const { state } = useSession();
  const usage = useResource(async () => (await api.get<{ data: Usage }>('/api/v1/usage')).data);
  useEffect(() => {
    if (version > 0) void usage.reload();
  }, [version]);
  const workspace = state.status === 'signed-in' ? state.me.workspace : null;
  const data = usage.data;
  return (
    <section class="card" aria-labelledby="usage-title">
      <div class="section-head">
        <h2 id="usage-title">Usage</h2>
        <button type="button" class="button small" onClick={() => void usage.reload()}>
          Refresh usage
        </button>
      </div>
      {workspace ? (
        <p>
          Plan: <strong class="capitalize">{workspace.plan}</strong>{' '}
          <span class={`badge badge-${workspace.plan_status === 'active' ? 'active' : 'expired'}`}>{workspace.plan_status === 'active' ? 'Active' : 'Expired'}</span>
        </p>
      ) : null}
      {workspace?.plan_status === 'expired' ? (
        <Alert kind="warning">
          The subscription has expired: API keys answer 403 subscription_inactive and images come with a preview watermark. Your keys are kept and work again as soon as the plan is reactivated; an operator runs{' '}
          <code>npx qrflow plan set --workspace {workspace.name} --plan {workspace.plan} --status active</code>.
        </Alert>
      ) : null}
      {usage.error ? <Alert>{usage.error}</Alert> : null}
      {!data && usage.loading ? <Loading what="usage" /> : null}
      {data ? (
        <>
          <Meter id="meter-api-calls" label="API calls" used={data.api_calls.used} limit={data.api_calls.limit} />
          <Meter id="meter-image-credits" label="Image generation credits" used={data.image_credits.used} limit={data.image_credits.limit} />
          <p class="muted">
            Limits reset on {shortDate(data.period.end)} (calendar months, UTC). At most {number.format(data.rate_limit.per_minute)} requests per minute for the whole workspace; past a limit the API answers 429.
          </p>
          {data.keys.length > 0 ? (
            <div class="table-wrap" tabIndex={0} role="region" aria-label="API calls per key">
              <table>
                <caption>API calls this month, per key</caption>
                <thead>
                  <tr>
                    <th scope="col">Key</th>
                    <th scope="col">Prefix</th>
                    <th scope="col" class="num">
                      API calls
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.keys.map((key) => (
                    <tr key={key.id}>
                      <th scope="row" class="break">
                        {key.name}
                      </th>
                      <td class="mono">{key.prefix}…</td>
                      <td class="num">{number.format(key.api_calls)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
