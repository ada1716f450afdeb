/**
 * The strict wire core: no I/O. Decoding what peers wrote (bytes kept), encoding what they
 * expect, normalizing job specs, timestamps, key names.
 */
export { WireError, isWireError, type WireErrorCode } from './errors.js';
export {
  JsonNumber, JsonObject, JsonString, type JsonValue, type NativeJson,
  parseJson, parseObject, stringifyJson, toNative, fromNative, asString,
} from './json.js';
export { type Peer, PEERS, PEER_TRAITS, type PeerTraits, isPeer, checkPeer, newJid } from './peers.js';
export { type TimeUnit, MS_THRESHOLD, isEpochMilliseconds, readTimestamp, timestampToken, floatSeconds, scoreSeconds, timeUnitOf, nowMs } from './timestamps.js';
export { detectDialect, type Detection } from './detect.js';
export { DecodedJob, decodeJob, peekClass, DEFAULT_MAX_PAYLOAD_BYTES, type DecodeOptions, type RetrySetting } from './decode.js';
export { queueNameProblem, MAX_QUEUE_NAME_LENGTH } from './queue-name.js';
export { normalizeJob, type JobSpec, type NormalizedJob, type NormalizeOptions } from './normalize.js';
export { failureOutcome, encodeBacktrace, deadLimitsFor, type DeadLimits, type FailureCause, type FailureInfo, type FailurePolicy, type FailureOutcome } from './failure.js';
export { promotedPayload } from './promote.js';
export {
  undecodableEntry, undecodableOriginal, UNDECODABLE_CLASS, PREVIEW_CHARS, type UndecodableInfo, type UndecodableEntry,
} from './undecodable.js';
export { KeyLayout } from './keys.js';
export {
  type ExecutionMetricsLayout, type MetricsBucket, HISTOGRAM_BUCKET_MS, histogramIndex, SIDEKIQ7_EXECUTION_METRICS, SIDEKIQ8_EXECUTION_METRICS,
} from './execution-metrics.js';
export { orderedJson } from './dialects/sidekiq-process.js';

/** Encodes a decoded (or built) job document back to its bytes. */
export { stringifyJson as encodeJob } from './json.js';
export {
  validateJobShape, isJobShape, schemaFor, validateRetryFields, validateProcessInfo, validateWorkEntry,
  SCHEMA_DOCUMENTS, type SchemaName, type ShapeError, type ShapeView, type WrittenJob, type ReadableJob,
} from './schemas.js';
export type * from './generated/schema-types.js';
export {
  DIALECTS, DETECTION_ORDER, dialectFor, dialectOfRelease, detectedDialect,
  type Dialect, type FailureContext as DialectFailureContext, type JobDraft, type ListEnd, type PlannedJob, type ProcessInfoInput,
  type ProcessRegistry, type PushCommand, type QueueEnds, type SidekiqProcessLayout,
  type AdminRules, type AdminSetName, type AdminProcessLayout, type FailedEntryView, type FailedListRules, type ProcessSignals,
} from './dialects/index.js';
