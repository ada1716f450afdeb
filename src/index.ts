/**
 * kiqgate: a Node.js job system that speaks Sidekiq's (and Verk's, and Exq's) Redis wire format.
 *
 * - `Client`: enqueue jobs that Sidekiq/Verk workers run as their own;
 * - `Worker`: run jobs reliably (nothing lives only in memory);
 * - `Admin`: Sidekiq::API's operations (stats, queues, retry/scheduled/dead, failures, processes);
 * - the wire core: decode/encode payloads losslessly.
 */
export * from './wire/index.js';
export * from './client/index.js';
export * from './engine/index.js';
export * from './admin/index.js';
export { redactUrl, redactText } from './support/redact.js';
export * as activeJob from './wire/activejob/index.js';
export { aj } from './wire/activejob/index.js';
export type { RetryOnRule, DiscardOnRule, ErrorMatcher } from './engine/activejob-rules.js';
