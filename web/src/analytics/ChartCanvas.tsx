import type { ChartConfiguration } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';
import type { Breakdown } from '../api/types';
import { draw, PALETTE } from './charts';

/** A canvas with a Chart.js chart; the numbers are also in a table for screen readers. */
export function ChartCanvas({ label, config, rows, height = 240 }: { label: string; config: ChartConfiguration; rows: Array<[string, number | string]>; height?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    return draw(ref.current, { ...config, options: { responsive: true, maintainAspectRatio: false, ...config.options } });
  }, [config]);
  return (
    <div class="chart">
      <div class={`chart-box chart-h${height}`}>
        <canvas ref={ref} role="img" aria-label={label} />
      </div>
      {/* a table cannot be shrunk to 1px itself: it goes in a hidden box */}
      <div class="visually-hidden">
      <table>
        <caption>{label}</caption>
        <tbody>
          {rows.map(([name, value]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </div>
  );
}

/** A breakdown (countries, devices…) as a horizontal bar chart, or a note when it is empty. */
export function BreakdownChart({ title, data, doughnut = false }: { title: string; data: Breakdown[]; doughnut?: boolean }) {
  const top = data.slice(0, 10);
  const config: ChartConfiguration = doughnut
    ? { type: 'doughnut', data: { labels: top.map((d) => d.value), datasets: [{ label: 'Scans', data: top.map((d) => d.scans), backgroundColor: PALETTE }] }, options: { plugins: { legend: { position: 'bottom' } } } }
    : {
        type: 'bar',
        data: { labels: top.map((d) => d.value), datasets: [{ label: 'Scans', data: top.map((d) => d.scans), backgroundColor: PALETTE[0], maxBarThickness: 28 }] },
        options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
      };
  return (
    <section class="chart-card" aria-label={title}>
      <h3>{title}</h3>
      {top.length === 0 ? <p class="muted">No scans in this period.</p> : <ChartCanvas label={`${title}: ${top.map((d) => `${d.value} ${d.scans}`).join(', ')}`} config={config} rows={top.map((d) => [d.value, d.scans])} />}
    </section>
  );
}
