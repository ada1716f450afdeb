/**
 * Producer spans: one `publish <queue>` span per Client.enqueue / enqueueBulk call, whose
 * context is carried in each job hash the way Ruby's opentelemetry-instrumentation-sidekiq does
 * it: its client middleware calls `OpenTelemetry.propagation.inject(job)`, the job hash as the
 * carrier, so the configured propagator (by default W3C Trace Context and Baggage) writes
 * top-level string keys: `traceparent` (`00-<trace id>-<span id>-<flags>`), `tracestate` and
 * `baggage` when there are any. A Sidekiq worker with that gem, or a kiqgate worker with
 * tracing on, continues the trace from them.
 *
 * Only for a dialect whose job hash may carry extra keys (Dialect.tracing.contextInJob, Sidekiq);
 * the other dialects' jobs get the span but no context (their clients' formats have no room).
 * A bulk call gets one span for the batch (`messaging.batch.message_count`), whose context every
 * job of the batch carries.
 */
import type * as Api from '@opentelemetry/api';
import type { Dialect } from '../wire/index.js';
import { type OtelApi, TRACER_NAME, messagingAttributes, recordFailure } from './otel.js';

export class ProducerTracing {
  private readonly tracer: Api.Tracer;

  constructor(private readonly api: OtelApi, private readonly dialect: Dialect) {
    this.tracer = api.trace.getTracer(TRACER_NAME);
  }

  /**
   * Starts the publish span (child of the caller's active span) and returns the keys to write
   * into each job hash (none when the dialect cannot carry them).
   */
  start(): { span: Api.Span; fields: Record<string, string> } {
    const { api } = this;
    const parent = api.context.active();
    const span = this.tracer.startSpan('publish', { kind: api.SpanKind.PRODUCER }, parent);
    const fields: Record<string, string> = {};
    if (this.dialect.tracing.contextInJob) api.propagation.inject(api.trace.setSpan(parent, span), fields);
    return { span, fields };
  }

  /** Names the span after the jobs it published and ends it (failed when `error` is given). */
  end(span: Api.Span, jobs: ReadonlyArray<{ queue: string; jid: string; className: string }>, error?: { thrown: unknown }): void {
    const first = jobs[0];
    const queue = first?.queue ?? 'unknown';
    span.updateName(`publish ${queue}`);
    span.setAttributes(messagingAttributes(this.dialect.tracing.system, 'publish', queue, first?.className));
    if (jobs.length === 1) span.setAttribute('messaging.message.id', first!.jid);
    else span.setAttribute('messaging.batch.message_count', jobs.length);
    if (error) recordFailure(this.api, span, error.thrown);
    span.end();
  }
}
