/**
 * Consumer spans: one `process <queue>` span around each run of a job's handler (a Resque-style
 * class retry's re-run gets its own), continuing the trace its producer carried in the job hash (see
 * producer-tracing.ts: `traceparent`, `tracestate`, `baggage` read with the configured
 * propagator, whoever wrote them: kiqgate or Ruby's Sidekiq instrumentation).
 *
 * `propagation` as the Ruby instrumentation's `propagation_style`: `link` (its default) starts a
 * new trace whose span links to the producer's; `child` makes the process span a child of the
 * producer's span, one trace from enqueue to run. The handler runs with the span active, so
 * spans it starts (an enqueue from inside a job) nest under it when a context manager is
 * registered.
 */
import type * as Api from '@opentelemetry/api';
import type { DecodedJob } from '../wire/index.js';
import { type OtelApi, TRACER_NAME, messagingAttributes, recordFailure } from './otel.js';

export type PropagationStyle = 'link' | 'child';

/** The trace context keys a producer may have written into the job hash. */
const CONTEXT_KEYS = ['traceparent', 'tracestate', 'baggage'];

const getter: Api.TextMapGetter<Readonly<Record<string, unknown>>> = {
  keys: (carrier) => CONTEXT_KEYS.filter((k) => typeof carrier[k] === 'string'),
  get: (carrier, key) => {
    const v = carrier[key];
    return typeof v === 'string' ? v : undefined;
  },
};

export class ConsumerTracing {
  private readonly tracer: Api.Tracer;

  constructor(private readonly api: OtelApi, private readonly system: string, private readonly style: PropagationStyle = 'link') {
    this.tracer = api.trace.getTracer(TRACER_NAME);
  }

  /** Runs `work` (the handler) inside the job's process span; rethrows what it throws. */
  async run<T>(job: DecodedJob, queue: string, work: () => T | Promise<T>): Promise<T> {
    const { api } = this;
    const carried = api.propagation.extract(api.ROOT_CONTEXT, job.fields, getter);
    const producer = api.trace.getSpanContext(carried);
    const valid = producer !== undefined && api.isSpanContextValid(producer);
    const attributes = messagingAttributes(this.system, 'process', queue, job.className);
    if (job.jid !== undefined) attributes['messaging.message.id'] = job.jid;
    const options: Api.SpanOptions = { kind: api.SpanKind.CONSUMER, attributes };
    let parent = api.ROOT_CONTEXT;
    if (valid && this.style === 'child') parent = carried;
    else if (valid) options.links = [{ context: producer }];
    const span = this.tracer.startSpan(`process ${queue}`, options, parent);
    try {
      return await api.context.with(api.trace.setSpan(parent, span), async () => work());
    } catch (err) {
      recordFailure(api, span, err);
      throw err;
    } finally {
      span.end();
    }
  }
}
