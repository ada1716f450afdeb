/** The producer API: enqueue, bulk, schedule. */
export { Client, type ClientOptions, type BulkSpec } from './client.js';
