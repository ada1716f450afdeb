/**
 * `/metrics` over real HTTP from a real worker on the test Redis: the job counters and
 * histograms per queue and class, the gauges read from Redis at scrape (queue size and latency,
 * the sorted sets, in-progress, heartbeat age), fetch batch sizes; and no server without a port.
 */
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { ConfigError, type Worker, resolveConfig } from '../../src/engine/index.js';
import { testRedis } from '../support/redis.js';
import { stopWorkerAfterEach, testWorker, until } from '../engine/helpers.js';

const redis = testRedis();
let worker: Worker | undefined;
stopWorkerAfterEach(redis, () => worker);

/** One sample of the text exposition format. */
interface Sample { name: string; labels: Record<string, string>; value: number }

/** Parses Prometheus's text format (the subset prom-client writes: no timestamps). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one sample named `name` whose labels include `labels` (undefined: none). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}

async function scrape(w: Worker, path = '/metrics'): Promise<{ status: number; type: string | null; body: string }> {
  const at = w.metricsAddress();
  if (!at) throw new Error('no metrics server');
  const res = await fetch(`http://127.0.0.1:${at.port}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

describe('Prometheus /metrics', () => {
  it('serves job counters, durations, fetch sizes and the gauges read from Redis at scrape', async () => {
    const done: string[] = [];
    worker = testWorker({
      queues: { default: 4, slow: 1 },
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      sidekiqHeartbeat: true,
      handlers: {
        Ok: () => { done.push('ok'); },
        Boom: () => { done.push('boom'); throw new Error('boom'); },
      },
    });
    await worker.start();
    worker.pauseQueue('slow');
    const k = worker.keys;
    const client = new Client({ redis: redis, namespace: worker.config.namespace });
    for (let i = 0; i < 3; i++) await client.enqueue({ class: 'Ok', args: [i] });
    await client.enqueue({ class: 'Boom', args: [], retry: 0 }); // straight to dead
    await client.enqueue({ class: 'NoSuchClass', args: [] }); // no handler: to retry
    await until(async () => (await redis.zcard(k.retry)) === 1 && (await redis.zcard(k.dead)) === 1 && done.length === 4, 'the five jobs run');
    await until(async () => (await redis.get(k.stat('processed'))) === '5', 'acks written');
    // Two jobs wait in the paused queue, the oldest enqueued 100 s ago (Sidekiq 7's float seconds).
    const oldest = JSON.stringify({ class: 'Ok', args: [], queue: 'slow', jid: 'a'.repeat(24), retry: true, created_at: Date.now() / 1000 - 100, enqueued_at: Date.now() / 1000 - 100 });
    await redis.lpush(k.queue('slow'), oldest);
    await client.enqueue({ class: 'Ok', args: [], queue: 'slow' });

    const res = await scrape(worker);
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain');
    const s = parse(res.body);
    expect(value(s, 'kiqgate_jobs_processed_total', { queue: 'default', class: 'Ok' })).toBe(3);
    expect(value(s, 'kiqgate_jobs_processed_total', { queue: 'default', class: 'Boom' })).toBe(1);
    // A class without a handler is one label, whatever payloads name.
    expect(value(s, 'kiqgate_jobs_processed_total', { queue: 'default', class: '(unregistered)' })).toBe(1);
    expect(value(s, 'kiqgate_jobs_failed_total', { queue: 'default', class: 'Boom', outcome: 'dead' })).toBe(1);
    expect(value(s, 'kiqgate_jobs_failed_total', { queue: 'default', class: '(unregistered)', outcome: 'retry' })).toBe(1);
    expect(value(s, 'kiqgate_jobs_failed_total', { class: 'Ok' })).toBeUndefined();
    expect(value(s, 'kiqgate_job_duration_seconds_count', { queue: 'default', class: 'Ok', status: 'success' })).toBe(3);
    expect(value(s, 'kiqgate_job_duration_seconds_count', { queue: 'default', class: 'Boom', status: 'failure' })).toBe(1);
    expect(value(s, 'kiqgate_job_duration_seconds_bucket', { queue: 'default', class: 'Ok', status: 'success', le: '+Inf' })).toBe(3);
    // Every job came through some fetch (a tick's batch or a BLMOVE).
    expect(value(s, 'kiqgate_fetch_batch_size_sum', { queue: 'default' })).toBe(5);
    expect(value(s, 'kiqgate_queue_size', { queue: 'slow' })).toBe(2);
    expect(value(s, 'kiqgate_queue_size', { queue: 'default' })).toBe(0);
    expect(value(s, 'kiqgate_queue_latency_seconds', { queue: 'slow' })).toBeGreaterThanOrEqual(100);
    expect(value(s, 'kiqgate_queue_latency_seconds', { queue: 'default' })).toBe(0);
    expect(value(s, 'kiqgate_in_progress_size', { queue: 'default', node: worker.nodeId })).toBe(0);
    expect(value(s, 'kiqgate_jobs_running', { queue: 'default' })).toBe(0);
    expect(value(s, 'kiqgate_set_size', { set: 'retry' })).toBe(1);
    expect(value(s, 'kiqgate_set_size', { set: 'dead' })).toBe(1);
    expect(value(s, 'kiqgate_set_size', { set: 'schedule' })).toBe(await redis.zcard(k.schedule));
    const age = value(s, 'kiqgate_heartbeat_age_seconds');
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60); // written at start, and every 10 s since
    expect(value(s, 'kiqgate_metrics_scrape_error')).toBe(0);

    expect((await scrape(worker, '/other')).status).toBe(404);
    const address = worker.metricsAddress()!;
    await worker.stop();
    // Stopped: the port is closed.
    await expect(fetch(`http://127.0.0.1:${address.port}/metrics`)).rejects.toThrow();
  });

  it('listens nowhere without a metrics port', async () => {
    worker = testWorker({ handlers: { Ok: () => undefined } });
    await worker.start();
    expect(worker.metricsAddress()).toBeUndefined();
  });

  it('validates the port in every layer', () => {
    expect(() => resolveConfig({ api: { metricsPort: 70_000 } })).toThrow(ConfigError);
    expect(() => resolveConfig({ env: { KIQGATE_METRICS_PORT: 'abc' } })).toThrow(/KIQGATE_METRICS_PORT|metricsPort/);
    expect(resolveConfig({ env: { KIQGATE_METRICS_PORT: '9394' } }).metricsPort).toBe(9394);
    expect(resolveConfig({}).metricsPort).toBeUndefined();
    expect(() => resolveConfig({ cli: { metricsPort: -1 } })).toThrow(/from 0 to 65535/);
  });
});
