/** The admin API: Sidekiq::API's operations (stats, queues, sets, failure list, processes) for every dialect. */
export { Admin, type AdminOptions } from './admin.js';
export { AdminError, type AdminErrorCode } from './errors.js';
export { JobSet, type SetAction } from './job-set.js';
export { FailedList, type FailedAction, type FailedEntry } from './failed-list.js';
export { ProcessSet, type ProcessView } from './processes.js';
export { Queues, type QueueSummary, latencyOf } from './queues.js';
export type { Stats } from './stats.js';
export type { JobEntry, EntryFilter } from './entry.js';
export type { BulkProgress, BulkResult, ProgressFn } from './bulk.js';
