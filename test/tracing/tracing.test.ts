/**
 * OpenTelemetry spans with the SDK's in-memory exporter, through a real Redis: the producer span
 * of Client.enqueue carries its context in the Sidekiq job hash (`traceparent`, as Ruby's
 * opentelemetry-instrumentation-sidekiq injects it); the worker's process span links to it
 * (`link`, the Ruby default) or is its child (`child`); a job a Ruby producer wrote with its
 * traceparent continues that trace; a Verk job (no room for extra keys) carries none.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { ConfigError, type Worker, resolveConfig } from '../../src/engine/index.js';
import { testRedis, uniqueNamespace } from '../support/redis.js';
import { stopWorkerAfterEach, testWorker, until } from '../engine/helpers.js';

const redis = testRedis();
let worker: Worker | undefined;
stopWorkerAfterEach(redis, () => worker);

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // What a Node SDK setup registers: the active span follows async calls (a handler's enqueue).
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

/** The finished spans named `name` (the worker ends its span after the handler returns). */
async function spansNamed(name: string, n = 1) {
  return until(() => {
    const spans = exporter.getFinishedSpans().filter((s) => s.name === name);
    return spans.length >= n ? spans : undefined;
  }, `${n} span(s) ${name}`);
}

describe('OpenTelemetry producer and consumer spans', () => {
  it('links the process span to the publish span through the traceparent in the job hash', async () => {
    const ran: string[] = [];
    worker = testWorker({ tracing: true, handlers: { Traced: (_a, ctx) => { ran.push(ctx.jid!); } } });
    const client = new Client({ redis, namespace: worker.config.namespace, tracing: true });
    const jid = await client.enqueue({ class: 'Traced', args: [1] });

    const [publish] = await spansNamed('publish default');
    expect(publish!.kind).toBe(SpanKind.PRODUCER);
    expect(publish!.attributes).toMatchObject({
      'messaging.system': 'sidekiq', 'messaging.operation.type': 'send', 'messaging.operation.name': 'publish',
      'messaging.destination.name': 'default', 'messaging.message.id': jid, 'messaging.sidekiq.job_class': 'Traced',
    });
    const [raw] = await redis.lrange(worker.keys.queue('default'), 0, -1);
    const job = JSON.parse(raw!) as Record<string, unknown>;
    const m = TRACEPARENT.exec(String(job.traceparent));
    expect(m, 'the job hash carries a W3C traceparent').not.toBeNull();
    expect(m![1]).toBe(publish!.spanContext().traceId);
    expect(m![2]).toBe(publish!.spanContext().spanId);

    await worker.start();
    await until(() => ran.length === 1, 'the job ran');
    const [processSpan] = await spansNamed('process default');
    expect(processSpan!.kind).toBe(SpanKind.CONSUMER);
    expect(processSpan!.attributes).toMatchObject({
      'messaging.system': 'sidekiq', 'messaging.operation.type': 'process', 'messaging.destination.name': 'default', 'messaging.message.id': jid,
    });
    // Ruby's default propagation_style :link: a new trace, linked to the producer's span.
    expect(processSpan!.spanContext().traceId).not.toBe(publish!.spanContext().traceId);
    expect(processSpan!.links.map((l) => l.context.spanId)).toEqual([publish!.spanContext().spanId]);
    expect(processSpan!.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it("continues a Ruby producer's trace as a child (tracing: 'child'), and marks a failed job's span", async () => {
    worker = testWorker({ tracing: 'child', handlers: { FromRuby: () => { throw new Error('nope'); } } });
    // What a Sidekiq 7 client with opentelemetry-instrumentation-sidekiq writes: the job hash with
    // the W3C traceparent its middleware injected (OpenTelemetry.propagation.inject(job)).
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const payload = `{"retry":0,"queue":"default","class":"FromRuby","args":[],"jid":"0123456789abcdef01234567","created_at":1733000000.5,"traceparent":"00-${traceId}-${parentId}-01","enqueued_at":1733000000.6}`;
    await redis.lpush(worker.keys.queue('default'), payload);
    await worker.start();
    const [processSpan] = await spansNamed('process default');
    expect(processSpan!.spanContext().traceId).toBe(traceId);
    expect(processSpan!.parentSpanContext?.spanId).toBe(parentId);
    expect(processSpan!.links).toEqual([]);
    expect(processSpan!.status.code).toBe(SpanStatusCode.ERROR);
    expect(processSpan!.events.map((e) => e.name)).toContain('exception');
    await until(async () => (await redis.zcard(worker!.keys.dead)) === 1, 'the failed job in dead');
  });

  it('carries a Ruby trace through a Node job into the job it enqueues (Ruby → Node → Ruby)', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const rubySpan = 'b7ad6b7169203331';
    let client: Client | undefined;
    worker = testWorker({
      tracing: 'child',
      handlers: { Relay: async () => { await client!.enqueue({ class: 'BackToRuby', args: [], queue: 'ruby' }); } },
    });
    client = new Client({ redis, namespace: worker.config.namespace, tracing: true });
    await redis.lpush(worker.keys.queue('default'), `{"retry":true,"queue":"default","class":"Relay","args":[],"jid":"abcdefabcdefabcdefabcdef","created_at":1733000000.5,"traceparent":"00-${traceId}-${rubySpan}-01","enqueued_at":1733000000.6}`);
    await worker.start();
    const [processSpan] = await spansNamed('process default');
    const [publish] = await spansNamed('publish ruby');
    expect(processSpan!.parentSpanContext?.spanId).toBe(rubySpan);
    expect(publish!.spanContext().traceId).toBe(traceId);
    expect(publish!.parentSpanContext?.spanId).toBe(processSpan!.spanContext().spanId);
    // What a Ruby worker with the Sidekiq instrumentation extracts from the next job.
    const [raw] = await redis.lrange(worker.keys.queue('ruby'), 0, -1);
    expect(String((JSON.parse(raw!) as Record<string, unknown>).traceparent)).toBe(`00-${traceId}-${publish!.spanContext().spanId}-01`);
  });

  it('traces a bulk push as one span whose context every job carries', async () => {
    const ns = uniqueNamespace('otel');
    const client = new Client({ redis, namespace: ns, tracing: true });
    try {
      const jids = await client.enqueueBulk({ class: 'Many', args: [[1], [2], [3]], queue: 'bulk' });
      const [publish] = await spansNamed('publish bulk');
      expect(publish!.attributes['messaging.batch.message_count']).toBe(3);
      expect(publish!.attributes['messaging.message.id']).toBeUndefined();
      const payloads = (await redis.lrange(`${ns}:queue:bulk`, 0, -1)).map((p) => JSON.parse(p) as Record<string, unknown>);
      expect(payloads.map((p) => p.jid).sort()).toEqual([...jids].sort());
      for (const p of payloads) expect(TRACEPARENT.exec(String(p.traceparent))![2]).toBe(publish!.spanContext().spanId);
    } finally {
      await redis.del(`${ns}:queue:bulk`, `${ns}:queues`);
    }
  });

  it('gives a Verk job a span but no context in its hash (its format has no room for extra keys)', async () => {
    const ns = uniqueNamespace('otel');
    const client = new Client({ redis, namespace: ns, peer: 'verk', tracing: true });
    try {
      await client.enqueue({ class: 'VerkJob', args: [], queue: 'v' });
      const [publish] = await spansNamed('publish v');
      expect(publish!.attributes['messaging.system']).toBe('verk');
      const [raw] = await redis.lrange(`${ns}:queue:v`, 0, -1);
      expect(Object.keys(JSON.parse(raw!) as object)).not.toContain('traceparent');
    } finally {
      await redis.del(`${ns}:queue:v`);
    }
  });

  it('loads and records nothing when tracing is off', async () => {
    const ns = uniqueNamespace('otel');
    const client = new Client({ redis, namespace: ns });
    try {
      await client.enqueue({ class: 'Plain', args: [] });
      const [raw] = await redis.lrange(`${ns}:queue:default`, 0, -1);
      expect(Object.keys(JSON.parse(raw!) as object)).not.toContain('traceparent');
      expect(exporter.getFinishedSpans()).toEqual([]);
    } finally {
      await redis.del(`${ns}:queue:default`, `${ns}:queues`);
    }
  });

  it('reads the tracing option from every layer: true is link, child, false; anything else is refused', () => {
    expect(resolveConfig({}).tracing).toBe(false);
    expect(resolveConfig({ api: { tracing: true } }).tracing).toBe('link');
    expect(resolveConfig({ env: { KIQGATE_TRACING: 'child' } }).tracing).toBe('child');
    expect(resolveConfig({ env: { KIQGATE_TRACING: '0' } }).tracing).toBe(false);
    expect(() => resolveConfig({ env: { KIQGATE_TRACING: 'parent' } })).toThrow(ConfigError);
  });
});
