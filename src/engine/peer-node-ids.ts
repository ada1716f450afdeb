/**
 * Node ids held by another runtime on the same Redis: a live Verk node or a live Exq node.
 *
 * A kiqgate worker with a fixed node id gives back `inprogress:<q>:<id>` at start and in its
 * in-progress audits. Were that id a live Verk node's, those are the Verk node's running jobs:
 * they would run twice, and Verk's acks would then find nothing (`Failed to acknowledge job`).
 * So, before claiming a fixed id, the worker looks for the liveness keys those runtimes write
 * (fixtures verk-1.7.3/node-recovery, exq-0.23.0/worker-success) and refuses to start when one
 * is live:
 *
 *   Verk  `verk:node:<id>` = "alive", PSETEX 2 × heartbeat on every beat. Live while it has a TTL
 *         (PTTL ≥ 0); PTTL -2 (gone) or -1 (no TTL) is what Verk itself takes for a dead node.
 *   Exq   `<ns>:processes` SET holds the id, and the hash `<ns>:<id>` has its `info` field (the
 *         5 s node ping, EXPIRE 60 s; Exq prunes a node whose hash lost `info` the same way).
 *
 * Keys follow the worker's namespace as kiqgate lays those runtimes' keys out (KeyLayout): Verk's
 * with the usual `<ns>:` prefix, Exq's node keys as Exq builds them (`<ns>:` even when empty).
 *
 * What this cannot see: a Verk with a fixed `node_id` (its default, "1") writes no node key at
 * all (fixture verk-1.7.3/inprogress-restart). That case is kept apart by kiqgate's default id
 * (config.ts DEFAULT_NODE_ID), not by this check. The check is also a snapshot: a peer started
 * with the same id after it is not seen.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { explainThrown } from '../support/describe-error.js';
import type { KeyLayout } from '../wire/index.js';
import { DEFAULT_NODE_ID, LEGACY_DEFAULT_NODE_ID } from './config.js';
import { NodeIdInUseError } from './node-claim.js';

/** A live node of another runtime that holds a node id. */
export interface PeerNodeHolder {
  runtime: 'Verk' | 'Exq';
  /** The liveness key found. */
  key: string;
  /** Its remaining TTL in ms (-1: none). */
  ttlMs: number;
}

/** The fixed node id is a live Verk or Exq node's: the worker does not start. */
export class NodeIdHeldByPeerError extends NodeIdInUseError {
  constructor(nodeId: string, readonly peer: PeerNodeHolder) {
    const expiry = peer.ttlMs >= 0 ? `expires in ${Math.ceil(peer.ttlMs / 1000)} s` : 'no expiry';
    const harm = peer.runtime === 'Verk'
      ? `kiqgate would give back its in-progress jobs (inprogress:<queue>:${nodeId}) while they run`
      : 'a node id must name one node among the runtimes sharing this Redis';
    super(nodeId, `a live ${peer.runtime} node`, 0,
      `node id '${nodeId}' is held by a live ${peer.runtime} node (${peer.key} ${expiry}): ${harm}; choose another --node-id (KIQGATE_NODE_ID), or use --generate-node-id`);
  }
}

/** The live Verk or Exq node holding `nodeId`, if any. */
export async function findPeerNodeHolder(redis: Redis, keys: KeyLayout, nodeId: string): Promise<PeerNodeHolder | undefined> {
  const verkKey = keys.verkNode(nodeId);
  const [[e1, verkTtl], [e2, exqMember]] = (await redis.pipeline()
    .pttl(verkKey)
    .sismember(keys.exqProcesses, nodeId)
    .exec()) as unknown as [[Error | null, number], [Error | null, number]];
  // PTTL fails only when Redis does. SISMEMBER also fails on a key of another type (with no
  // namespace, `:processes` is not Sidekiq's set, but a user's key may sit there): no Exq node.
  if (e1) throw e1;
  if (verkTtl >= 0) return { runtime: 'Verk', key: verkKey, ttlMs: verkTtl };
  if (e2 || exqMember !== 1) return undefined;
  // Only for an id Exq lists (a second round trip, and the node's hash read only then: the
  // least-privilege ACL recipe need not grant every `<ns>:<id>` key).
  const exqKey = keys.exqNode(nodeId);
  const [[e3, exqInfo], [e4, exqTtl]] = (await redis.pipeline()
    .hexists(exqKey, 'info')
    .pttl(exqKey)
    .exec()) as unknown as [[Error | null, number], [Error | null, number]];
  // HEXISTS fails on a key of another type (namespace `ns`, id `retry`: `ns:retry`, a zset).
  if (e4) throw e4;
  if (!e3 && exqInfo === 1) return { runtime: 'Exq', key: exqKey, ttlMs: exqTtl };
  return undefined;
}

/**
 * Upgrade from a kiqgate whose default node id was "1" (before issue 16): a crash of it may have
 * left jobs in `inprogress:<q>:1`. They are not taken automatically: "1" is also Verk's default
 * node id, and a Verk at its defaults writes no node key, so its running jobs look exactly like
 * those leftovers. One warning line tells the operator how to recover them, unless a live
 * Verk/Exq node "1" shows they are that node's. Never fails the start.
 */
export async function warnOfLegacyInProgress(redis: Redis, keys: KeyLayout, queues: string[], logger: Logger): Promise<void> {
  try {
    const lens = await Promise.all(queues.map((q) => redis.llen(keys.inProgress(q, LEGACY_DEFAULT_NODE_ID))));
    const lists = Object.fromEntries(queues.flatMap((q, i) => (lens[i]! > 0 ? [[keys.inProgress(q, LEGACY_DEFAULT_NODE_ID), lens[i]!]] : [])));
    const jobs = lens.reduce((a, b) => a + b, 0);
    if (jobs === 0 || await findPeerNodeHolder(redis, keys, LEGACY_DEFAULT_NODE_ID)) return;
    logger.warn({ lists, jobs }, `${jobs} job(s) wait in in-progress lists of node id '${LEGACY_DEFAULT_NODE_ID}' (kiqgate's default before ${DEFAULT_NODE_ID}, and Verk's default); they are not taken automatically: if no Verk runs with node id ${LEGACY_DEFAULT_NODE_ID} on this Redis, run one worker once with --node-id ${LEGACY_DEFAULT_NODE_ID} to give them back to their queues`);
  } catch (err) {
    logger.debug({ err: explainThrown(err) }, 'could not look for in-progress lists of the old default node id');
  }
}
