/** Turns measurements into checks against the targets of issue 8, a markdown table and the results document. */

export interface Check {
  id: string;
  scenario: string;
  figure: number;
  unit: string;
  baseline?: { name: string; value: number; unit: string };
  ratio?: number;
  target: string;
  pass: boolean;
  /** The per-run figures the median was taken from. */
  runs?: number[];
  note?: string;
}

/** `figure / baseline` must be at least `minRatio`. */
export function ratioCheck(id: string, scenario: string, figure: { value: number; unit: string; runs?: number[] }, baseline: { name: string; value: number; unit: string }, minRatio: number, note?: string): Check {
  const ratio = figure.value / baseline.value;
  return {
    id,
    scenario,
    figure: figure.value,
    unit: figure.unit,
    baseline,
    ratio,
    target: `≥ ${minRatio}× ${baseline.name}`,
    pass: Number.isFinite(ratio) && ratio >= minRatio,
    ...(figure.runs ? { runs: figure.runs } : {}),
    ...(note ? { note } : {}),
  };
}

/** An absolute figure against a limit. */
export function limitCheck(id: string, scenario: string, figure: { value: number; unit: string; runs?: number[] }, op: '>=' | '<=', limit: number, note?: string): Check {
  const pass = Number.isFinite(figure.value) && (op === '>=' ? figure.value >= limit : figure.value <= limit);
  return {
    id,
    scenario,
    figure: figure.value,
    unit: figure.unit,
    target: `${op === '>=' ? '≥' : '≤'} ${formatNumber(limit)} ${figure.unit}`,
    pass,
    ...(figure.runs ? { runs: figure.runs } : {}),
    ...(note ? { note } : {}),
  };
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function markdownTable(checks: Check[]): string {
  const lines = ['| | scenario | figure | baseline | ratio | target | result |', '|---|---|---:|---|---:|---|---|'];
  for (const c of checks) {
    const baseline = c.baseline ? `${c.baseline.name}: ${formatNumber(c.baseline.value)} ${c.baseline.unit}` : '';
    const ratio = c.ratio === undefined ? '' : `${c.ratio.toFixed(2)}×`;
    lines.push(`| ${c.id} | ${cell(c.scenario)} | ${formatNumber(c.figure)} ${c.unit} | ${cell(baseline)} | ${ratio} | ${cell(c.target)} | ${c.pass ? 'pass' : '**FAIL**'}${c.note ? ` (${cell(c.note)})` : ''} |`);
  }
  return lines.join('\n');
}

export function baselineTable(baselines: Array<{ name: string; value: number; runs: number[] }>): string {
  const lines = ['| baseline | median | runs |', '|---|---:|---|'];
  for (const b of baselines) lines.push(`| ${b.name} | ${formatNumber(b.value)} req/s | ${b.runs.map(formatNumber).join(', ')} |`);
  return lines.join('\n');
}
