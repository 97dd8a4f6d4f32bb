import type { ChartConfiguration } from 'chart.js';
import { useMemo, useState } from 'preact/hooks';
import { api, withQuery } from '../api/client';
import type { Analytics, QrCode } from '../api/types';
import { Alert } from '../ui/Dialog';
import { Loading } from '../ui/Page';
import { BreakdownChart, ChartCanvas } from './ChartCanvas';
import { useResource } from '../ui/useResource';

const RANGES = [
  { days: 7, label: 'Last 7 days' },
  { days: 30, label: 'Last 30 days' },
  { days: 90, label: 'Last 90 days' },
  { days: 365, label: 'Last 12 months' },
];

function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function timeZones(current: string): string[] {
  const supported = (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return [...new Set(['UTC', current, ...supported])];
}

/** A code's scans over time (total and unique) and its breakdowns, with period, time zone and bot controls. */
export function AnalyticsPanel({ qr }: { qr: QrCode }) {
  const [interval, setInterval] = useState<'day' | 'week' | 'month'>('day');
  const [days, setDays] = useState(30);
  const [tz, setTz] = useState(browserTimeZone);
  const [includeBots, setIncludeBots] = useState(false);
  const zones = useMemo(() => timeZones(tz), []);
  const analytics = useResource(async () => {
    const to = new Date();
    const from = new Date(to.getTime() - days * 24 * 3600 * 1000);
    const path = withQuery(`/api/v1/qr/${encodeURIComponent(qr.id)}/analytics`, { from: from.toISOString(), to: to.toISOString(), interval, tz, include_bots: includeBots });
    return (await api.get<{ data: Analytics }>(path)).data;
  }, [qr.id, qr.scan_count, interval, days, tz, includeBots]);
  const data = analytics.data;

  const timeline = useMemo<ChartConfiguration | null>(
    () =>
      data
        ? {
            type: 'line',
            data: {
              labels: data.timeseries.map((p) => p.period),
              datasets: [
                { label: 'Total scans', data: data.timeseries.map((p) => p.scans), borderColor: '#1d4ed8', backgroundColor: 'rgba(29, 78, 216, 0.15)', fill: true, tension: 0.2 },
                { label: 'Unique scans', data: data.timeseries.map((p) => p.unique_scans), borderColor: '#0f766e', backgroundColor: '#0f766e', tension: 0.2 },
              ],
            },
            options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { position: 'bottom' } } },
          }
        : null,
    [data],
  );

  return (
    <section class="card" aria-labelledby="analytics-title">
      <h2 id="analytics-title">Analytics</h2>
      <div class="filters">
        <div>
          <label for="analytics-range">Period</label>
          <select id="analytics-range" value={days} onChange={(e) => setDays(Number(e.currentTarget.value))}>
            {RANGES.map((r) => (
              <option key={r.days} value={r.days}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="analytics-interval">Group by</label>
          <select id="analytics-interval" value={interval} onChange={(e) => setInterval(e.currentTarget.value as 'day' | 'week' | 'month')}>
            <option value="day">Day</option>
            <option value="week">Week</option>
            <option value="month">Month</option>
          </select>
        </div>
        <div>
          <label for="analytics-tz">Time zone</label>
          <select id="analytics-tz" value={tz} onChange={(e) => setTz(e.currentTarget.value)}>
            {zones.map((zone) => (
              <option key={zone} value={zone}>
                {zone}
              </option>
            ))}
          </select>
        </div>
        <label class="check">
          <input type="checkbox" checked={includeBots} onChange={(e) => setIncludeBots(e.currentTarget.checked)} /> Include bots and link previews
        </label>
      </div>
      {analytics.error ? <Alert>{analytics.error}</Alert> : null}
      {!data && analytics.loading ? <Loading what="analytics" /> : null}
      {data && timeline ? (
        <>
          <div class="stats">
            <p>
              <span class="stat">{data.total_scans}</span> total scans
            </p>
            <p>
              <span class="stat">{data.unique_scans}</span> unique scans
            </p>
          </div>
          <section class="chart-card" aria-label="Scans over time">
            <h3>Scans over time</h3>
            <ChartCanvas label={`Scans per ${data.interval}: ${data.total_scans} total, ${data.unique_scans} unique`} config={timeline} rows={data.timeseries.map((p) => [p.period, `${p.scans} total, ${p.unique_scans} unique`])} height={280} />
          </section>
          <div class="chart-grid">
            <BreakdownChart title="Countries" data={data.countries} />
            <BreakdownChart title="Devices" data={data.devices} doughnut />
            <BreakdownChart title="Operating systems" data={data.os} />
            <BreakdownChart title="Browsers" data={data.browsers} />
            <BreakdownChart title="Referrers" data={data.referrers} />
            <BreakdownChart title="Regions" data={data.regions ?? []} />
            <BreakdownChart title="Cities" data={data.cities ?? []} />
            {data.variants?.length ? <BreakdownChart title="A/B variants" data={data.variants} /> : null}
          </div>
          {/* the GeoIP data's licence (CC BY 4.0) asks for this link on pages that show its results */}
          <p class="attribution">
            <a href="https://db-ip.com">IP Geolocation by DB-IP</a>
          </p>
        </>
      ) : null}
    </section>
  );
}
