/**
 * The engine: consumes Sidekiq-, Verk- and kiqgate-written jobs reliably (Verk's model).
 */
export { Worker, createWorker, type StopOptions } from './worker.js';
export type { WorkerHooks } from './app-hooks.js';
export {
  type WorkerOptions, type WorkerConfig, type LogLevel, type SidekiqPeer,
  ConfigError, resolveConfig, readConfigFile, readEnv, parseQueueSpec, MAX_CONCURRENCY, DEFAULT_NODE_ID, LEGACY_DEFAULT_NODE_ID,
} from './config.js';
export { Registry, type Handler, type HandlerDefinition, type HandlerTable, type JobContext } from './registry.js';
export { EngineEmitter, type EngineEvents, type EngineEvent, type EngineEventName } from './events.js';
export { type EngineView, type EngineService, type RunningJob } from './engine-view.js';
export { JobError, type JobResult } from './job-runner.js';
export { Scheduler } from './scheduler.js';
export { SidekiqHeartbeat } from './sidekiq-heartbeat.js';
export { VerkNodes } from './verk-nodes.js';
export { NodeIdInUseError } from './node-claim.js';
export { NodeIdHeldByPeerError, findPeerNodeHolder, type PeerNodeHolder } from './peer-node-ids.js';
