/** The summary table: medians with min–max per row × system, and kiqgate's ratio to each peer. */
import { fmt, median, minMax } from './stats.js';

export interface RunRecord {
  round: number;
  system: string;
  workload: string;
  case: string;
  metrics?: Record<string, number>;
  error?: string;
  raw?: unknown;
}

export interface RowSpec {
  workload: string;
  case: string;
  metric: string;
  label: string;
  /** Whether a larger figure is the better one (shown as ↑ / ↓). */
  higherIsBetter: boolean;
  /** A reading of the machine, not of the system (no arrow, no ratios). */
  context?: boolean;
}

export interface Column {
  system: string;
  /** Why the system did not run ("not installed", "not built yet"), or null. */
  unavailable: string | null;
}

export interface Summary {
  label: string;
  system: string;
  median: number;
  min: number;
  max: number;
  samples: number;
}

function samples(records: RunRecord[], row: RowSpec, system: string): number[] {
  return records
    .filter((r) => r.system === system && r.workload === row.workload && r.case === row.case && r.metrics)
    .map((r) => r.metrics![row.metric])
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

function failed(records: RunRecord[], row: RowSpec, system: string): boolean {
  return records.some((r) => r.system === system && r.workload === row.workload && r.case === row.case && r.error);
}

/** Medians per row × system, for the results file. */
export function summarize(records: RunRecord[], rows: RowSpec[], columns: Column[]): Summary[] {
  const out: Summary[] = [];
  for (const row of rows) {
    for (const col of columns) {
      const xs = samples(records, row, col.system);
      if (xs.length === 0) continue;
      const [min, max] = minMax(xs);
      out.push({ label: row.label, system: col.system, median: median(xs), min, max, samples: xs.length });
    }
  }
  return out;
}

export function renderTable(records: RunRecord[], rows: RowSpec[], columns: Column[], base = 'kiqgate'): string {
  const peers = columns.filter((c) => c.system !== base);
  const hasBase = columns.some((c) => c.system === base);
  const header = ['workload', ...columns.map((c) => c.system), ...(hasBase ? peers.map((p) => `${base}/${p.system}`) : [])];
  const body: string[][] = [];
  for (const row of rows) {
    const cells = [row.context ? row.label : `${row.label} ${row.higherIsBetter ? '↑' : '↓'}`];
    const medians = new Map<string, number>();
    let any = false;
    for (const col of columns) {
      const xs = samples(records, row, col.system);
      if (col.unavailable) cells.push(col.unavailable);
      else if (xs.length === 0) cells.push(failed(records, row, col.system) ? 'failed' : '');
      else {
        any = true;
        const m = median(xs);
        medians.set(col.system, m);
        const [lo, hi] = minMax(xs);
        cells.push(xs.length > 1 ? `${fmt(m)} (${fmt(lo)}–${fmt(hi)})` : fmt(m));
      }
    }
    if (hasBase) {
      for (const p of peers) {
        const a = medians.get(base);
        const b = medians.get(p.system);
        cells.push(!row.context && a !== undefined && b !== undefined && b !== 0 ? `${(a / b).toFixed(2)}×` : '–');
      }
    }
    if (any || columns.every((c) => c.unavailable)) body.push(cells);
    else if (cells.slice(1).some((c) => c === 'failed')) body.push(cells);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
