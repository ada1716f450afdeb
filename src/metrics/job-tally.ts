/**
 * The per-job metrics (processed, failed, run-time histogram per queue and class) counted in
 * plain numbers, and handed to prom-client's registry as metric objects it renders at scrape.
 *
 * Why not prom-client's Counter and Histogram: their `inc`/`observe` validate and hash the label
 * set on every call, also through a `labels()` child (~1 µs per job on the c50 drain, most of
 * the cost of metrics on). Here a job costs two Map lookups and a few additions; the label
 * objects and cumulative buckets are built only when Prometheus asks.
 */

/** What prom-client's Registry reads from a metric (registerMetric / getMetricsAsString). */
export interface RegistryMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }>;
  reset(): void;
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** One histogram series: count, sum and per-bucket (not cumulative) counts. */
export class Series {
  count = 0;
  sum = 0;
  readonly buckets: number[];
  constructor(private readonly bounds: readonly number[]) {
    this.buckets = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    this.count++;
    this.sum += value;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    if (i < b.length) this.buckets[i]!++;
  }

  /** Its `_bucket` (cumulative, with `le`), `_sum` and `_count` samples. */
  samples(name: string, labels: Record<string, string>): Sample[] {
    if (this.count === 0) return [];
    const out: Sample[] = [];
    let cumulative = 0;
    this.bounds.forEach((le, i) => {
      cumulative += this.buckets[i]!;
      out.push({ labels: { ...labels, le }, value: cumulative, metricName: `${name}_bucket` });
    });
    out.push({ labels: { ...labels, le: '+Inf' }, value: this.count, metricName: `${name}_bucket` });
    out.push({ labels, value: this.sum, metricName: `${name}_sum` });
    out.push({ labels, value: this.count, metricName: `${name}_count` });
    return out;
  }
}

/** A metric object for prom-client's registry whose samples `values()` makes at scrape. */
export function registryMetric(name: string, help: string, type: 'counter' | 'histogram', values: () => Sample[], reset: () => void = () => undefined): RegistryMetric {
  return {
    name, help, type, aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    reset,
  };
}

/** One queue × class. */
class Cell {
  processed = 0;
  readonly failed = new Map<string, number>();
  readonly success: Series;
  readonly failure: Series;
  constructor(readonly queue: string, readonly className: string, bounds: readonly number[]) {
    this.success = new Series(bounds);
    this.failure = new Series(bounds);
  }
}

export class JobTally {
  private readonly cells = new Map<string, Map<string, Cell>>();

  constructor(
    /** Upper bounds (seconds) of the run-time histogram's buckets, ascending. */
    private readonly bounds: readonly number[],
    /** The class label of a class name (the metrics map classes without a handler to one label). */
    private readonly classLabel: (className: string) => string,
  ) {}

  /** A job that succeeded after `seconds`. */
  succeeded(queue: string, className: string, seconds: number): void {
    const c = this.cell(queue, className);
    c.processed++;
    c.success.observe(seconds);
  }

  /** A job that failed after `seconds`, and what became of it (retry, dead, drop, failed). */
  failedJob(queue: string, className: string, outcome: string, seconds: number): void {
    const c = this.cell(queue, className);
    c.processed++;
    c.failed.set(outcome, (c.failed.get(outcome) ?? 0) + 1);
    c.failure.observe(seconds);
  }

  private cell(queue: string, className: string): Cell {
    let byClass = this.cells.get(queue);
    if (!byClass) this.cells.set(queue, (byClass = new Map()));
    let c = byClass.get(className);
    if (!c) {
      // Several unregistered class names share one label: they share one cell too.
      const label = this.classLabel(className);
      c = label === className ? undefined : byClass.get(label);
      c ??= new Cell(queue, label, this.bounds);
      byClass.set(className, c);
      if (label !== className) byClass.set(label, c);
    }
    return c;
  }

  /** Each distinct cell once (unregistered names map to a shared one). */
  private distinctCells(): Cell[] {
    const seen = new Set<Cell>();
    for (const byClass of this.cells.values()) for (const c of byClass.values()) seen.add(c);
    return [...seen];
  }

  /** The three metrics to register: processed and failed counters, the run-time histogram. */
  metrics(names: { processed: string; failed: string; duration: string }): RegistryMetric[] {
    const reset = () => this.cells.clear();
    return [
      registryMetric(names.processed, 'Jobs run to an outcome (success or failure), as Sidekiq counts processed', 'counter',
        () => this.distinctCells().map((c) => ({ labels: { queue: c.queue, class: c.className }, value: c.processed })), reset),
      registryMetric(names.failed, 'Jobs that failed, by what became of them (retry, dead, drop, failed)', 'counter',
        () => this.distinctCells().flatMap((c) => [...c.failed].map(([outcome, n]) => ({ labels: { queue: c.queue, class: c.className, outcome }, value: n }))), reset),
      registryMetric(names.duration, 'Handler run time in seconds', 'histogram', () => this.distinctCells().flatMap((c) => [
        ...c.success.samples(names.duration, { queue: c.queue, class: c.className, status: 'success' }),
        ...c.failure.samples(names.duration, { queue: c.queue, class: c.className, status: 'failure' }),
      ]), reset),
    ];
  }
}
