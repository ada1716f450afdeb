/**
 * ActiveJob (Rails) over Sidekiq: the envelope inside the wrapper job, its argument
 * serialization both ways, and the pushes `perform_later` and `retry_on` make. Pure, no I/O.
 */
export * from './values.js';
export { decodeArgument, decodeArguments, encodeArgument, encodeArguments, rubyBigDecimalText, type ArgumentFeatures, RAILS_6_1_ARGUMENTS } from './arguments.js';
export {
  decodeActiveJob, isActiveJobWrapper, RAILS_WRAPPER, SIDEKIQ_WRAPPER, WRAPPER_CLASSES, type ActiveJobEnvelope, type DecodedActiveJob,
} from './envelope.js';
export {
  activeJobPush, activeJobTarget, retryOnPush, pushedThroughSetter, DEFAULT_ACTIVEJOB_TARGET,
  type ActiveJobSpec, type ActiveJobTarget, type ActiveJobTargetName, type RetryOnChange,
} from './wrapper.js';
export { aj } from './constructors.js';
