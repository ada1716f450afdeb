/**
 * The optional `@opentelemetry/api`, loaded only when tracing is asked for (the `tracing` option
 * of Client and Worker): a kiqgate without tracing never imports it, so an application without
 * OpenTelemetry pays nothing and needs nothing installed. With it installed but no SDK
 * registered, the API's no-op tracer makes every span a no-op.
 *
 * Span shape (OpenTelemetry messaging semantic conventions, spans): `publish <queue>` (kind
 * PRODUCER, `messaging.operation.type` `send`, the current name of the deprecated `publish`)
 * around Client.enqueue/enqueueBulk, `process <queue>` (kind CONSUMER, `process`) around a job's
 * handler; `messaging.system` (the dialect's: `sidekiq`, as the Ruby instrumentation),
 * `messaging.destination.name` (the queue), `messaging.message.id` (the jid),
 * `messaging.operation.name`, and `messaging.<system>.job_class` as the Ruby instrumentation
 * writes `messaging.sidekiq.job_class`.
 */
import type * as Api from '@opentelemetry/api';

export type OtelApi = typeof Api;

/** The tracer's instrumentation scope name. */
export const TRACER_NAME = 'kiqgate';

let loading: Promise<OtelApi> | undefined;

/** `@opentelemetry/api`, imported once; rejects with how to install it when it is absent. */
export function loadOtel(): Promise<OtelApi> {
  loading ??= import('@opentelemetry/api').then(
    (m) => m,
    (err: unknown) => {
      loading = undefined;
      throw new Error(`tracing is on but @opentelemetry/api could not be loaded (${(err as Error).message}); install it beside kiqgate: npm install @opentelemetry/api`);
    },
  );
  return loading;
}

/** The attributes every kiqgate messaging span carries. */
export function messagingAttributes(system: string, operation: 'publish' | 'process', queue: string, className: string | undefined): Api.Attributes {
  const attrs: Api.Attributes = {
    'messaging.system': system,
    'messaging.operation.type': operation === 'publish' ? 'send' : 'process',
    'messaging.operation.name': operation,
    'messaging.destination.name': queue,
  };
  if (className !== undefined) attrs[`messaging.${system}.job_class`] = className;
  return attrs;
}

/** Marks a span failed with what was thrown (its message only: never the value itself). */
export function recordFailure(api: OtelApi, span: Api.Span, err: unknown): void {
  const e = err instanceof Error ? err : new Error(typeof err === 'string' ? err : 'a non-Error value was thrown');
  try {
    span.recordException(e);
  } catch {
    // A hostile error (a getter that throws) loses its event, not the job.
  }
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: e.name });
}
