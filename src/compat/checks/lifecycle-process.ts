/**
 * The lifecycle steps about the worker process rather than one job: jobs given back at shutdown,
 * in-progress lists recovered (a restart with the same node id, or a dead node swept by a peer),
 * and the Sidekiq process heartbeat (field set, info JSON, quiet via the signals list).
 */
import { KeyLayout, dialectFor } from '../../wire/index.js';
import { expectedPeer, type Fixture, type FixtureState, valueBytes, valueText } from '../fixture.js';
import { comparePayloadShape } from '../payload-shape.js';
import type { CheckContext, Tally } from '../types.js';
import { handlerClass, queueOf, startCheckWorker, waitUntil } from './harness.js';
import { decodeOrUndefined, writes } from '../extract.js';

/**
 * Sidekiq's hard shutdown RPUSHes unfinished jobs back, unchanged. kiqgate, stopped while the same
 * job runs past the shutdown timeout, must leave exactly those bytes in the queue and nothing in
 * progress.
 */
export async function shutdownStep(f: Fixture, ctx: CheckContext, t: Tally): Promise<void> {
  if (!(f.events ?? []).some((e) => /SIGTERM|stop/i.test(e.event))) return;
  const requeued = f.commands.filter((c) => valueText(c.argv[0]!).toLowerCase() === 'rpush' && /(^|:)queue:/.test(valueText(c.argv[1]!)));
  for (const [i, c] of requeued.entries()) {
    for (const [k, v] of c.argv.slice(2).entries()) {
      const bytes = valueBytes(v);
      const job = decodeOrUndefined(bytes);
      if (!job) continue;
      const ns = `${ctx.namespace}:t${i}-${k}`;
      const queue = queueOf(job.queue, valueText(c.argv[1]!));
      await ctx.redis.lpush(`${ns}:queue:${queue}`, bytes);
      const w = await startCheckWorker(ctx.redisUrl, ns, [queue], [handlerClass(job)], 'hang', { shutdownTimeoutMs: 300 });
      await waitUntil(() => w.runs.length > 0);
      await w.stop();
      const back = await ctx.redis.lrangeBuffer(`${ns}:queue:${queue}`, 0, -1);
      const inProgress = await ctx.redis.keys(`${ns}:inprogress:*`);
      const ok = w.runs.length > 0 && back.length === 1 && back[0]!.equals(bytes) && inProgress.length === 0;
      t.check(ok, () => `shutdown with ${job.className} ${job.jid} running: queue holds ${back.length} entries (identical bytes: ${back.some((b) => b.equals(bytes))}), in-progress keys left: ${inProgress.length}`);
    }
  }
}

/** `inprogress:<q>:<node>` names mentioned anywhere in the fixture. */
function inProgressLists(f: Fixture): Array<{ queue: string; node: string }> {
  const names = new Set<string>();
  const scan = (s: string) => { const m = /(?:^|:)inprogress:([^:]+):([^:]+)$/.exec(s); if (m) names.add(`${m[1]}\u0000${m[2]}`); };
  for (const c of [...f.commands, ...(f.lua_commands ?? [])]) for (const a of c.argv.slice(1)) scan(valueText(a));
  const states: FixtureState[] = [f.state, ...(f.checkpoints ?? []).map((cp) => cp.state)];
  for (const st of states) for (const k of Object.keys(st)) scan(k);
  return [...names].map((n) => { const [queue, node] = n.split('\u0000') as [string, string]; return { queue, node }; });
}

/**
 * Verk gives a node's in-progress jobs back to the queue unchanged: at a restart with the same
 * node id, or when a peer finds the node dead. kiqgate, given the same list, must put the same
 * bytes back and run them.
 */
export async function recoveryStep(f: Fixture, ctx: CheckContext, t: Tally): Promise<void> {
  const lists = inProgressLists(f);
  if (lists.length === 0) return;
  const peerTracksNodes = f.commands.some((c) => valueText(c.argv[1] ?? '').endsWith('verk_nodes'));
  // The jobs the peer moved back: RPUSHes (inside its Lua) to a queue.
  const returned = writes(f).filter((w) => /(^|:)queue:/.test(w.key) && w.t !== undefined && (f.lua_commands ?? []).some((c) => c.t === w.t && valueText(c.argv[0]!).toUpperCase() === 'RPUSH'));
  for (const [i, w] of returned.entries()) {
    const job = decodeOrUndefined(w.bytes);
    if (!job) continue;
    const queue = queueOf(job.queue, w.key);
    const list = lists.find((l) => l.queue === queue) ?? lists[0]!;
    const ns = `${ctx.namespace}:r${i}`;
    const keys = new KeyLayout(ns);
    await ctx.redis.lpush(keys.inProgress(queue, list.node), w.bytes);
    const extra = peerTracksNodes
      ? { generateNodeId: true, heartbeatMs: 500 }
      : { nodeId: list.node };
    if (peerTracksNodes) {
      await ctx.redis.sadd(keys.verkNodes, list.node);
      await ctx.redis.sadd(keys.verkNodeQueues(list.node), queue);
    }
    const sw = await startCheckWorker(ctx.redisUrl, ns, [queue], [handlerClass(job)], 'record', extra);
    try {
      await waitUntil(() => sw.runs.some((r) => r.raw.equals(w.bytes)));
      const how = peerTracksNodes ? `dead node ${list.node} swept by a live node` : `restart with node id ${list.node}`;
      t.check(sw.runs.some((r) => r.raw.equals(w.bytes)), () => `${how}: ${job.className} ${job.jid} was not recovered with its exact bytes and run`);
    } finally {
      await sw.stop();
    }
  }
}

/** A Sidekiq process hash in a key dump: `info`, `beat` and `busy` fields. */
function processHash(st: FixtureState): { key: string; value: Record<string, string> } | undefined {
  for (const [key, d] of Object.entries(st)) {
    if (d.type !== 'hash') continue;
    const v = d.value as Record<string, string>;
    if ('info' in v && 'beat' in v && 'busy' in v) return { key, value: v };
  }
  return undefined;
}

/**
 * The Sidekiq process heartbeat: kiqgate's `<identity>` hash must have the peer's field set,
 * its `info` JSON the peer's fields in the peer's order, `quiet` the string "false"; and a TSTP
 * pushed to `<identity>-signals` (as Sidekiq's API does) must turn it quiet.
 */
export async function heartbeatStep(f: Fixture, ctx: CheckContext, t: Tally): Promise<void> {
  const peer = expectedPeer(f);
  if (!peer || dialectFor(peer).processRegistry.kind !== 'sidekiq') return;
  const theirs = [f.state, ...(f.checkpoints ?? []).map((c) => c.state)].map(processHash).find((h) => h !== undefined);
  if (!theirs) return;
  const ns = `${ctx.namespace}:h`;
  const w = await startCheckWorker(ctx.redisUrl, ns, ['default'], [], 'record', { sidekiqHeartbeat: true, peer });
  try {
    const key = `${ns}:${w.worker.identity}`;
    await waitUntil(async () => (await ctx.redis.exists(key)) === 1);
    const ours = await ctx.redis.hgetall(key);
    const diffs: string[] = [];
    const fields = (o: Record<string, string>) => Object.keys(o).sort().join(', ');
    if (fields(ours) !== fields(theirs.value)) diffs.push(`hash fields differ: peer [${fields(theirs.value)}], kiqgate [${fields(ours)}]`);
    if (ours.info !== undefined && theirs.value.info !== undefined) {
      diffs.push(...comparePayloadShape(theirs.value.info, ours.info, { typeOnly: new Set(['hostname', 'pid', 'identity', 'started_at', 'tag', 'concurrency', 'queues', 'weights', 'labels', 'capsules']) }).map((d) => `info: ${d}`));
    }
    if (ours.quiet !== 'false') diffs.push(`quiet is ${JSON.stringify(ours.quiet)}, expected "false"`);
    t.check(diffs.length === 0, () => `process heartbeat: ${diffs.join('; ')}`);
    if (f.commands.some((c) => valueText(c.argv[0]!).toLowerCase() === 'lpush' && valueText(c.argv[1] ?? '').endsWith('-signals') && valueText(c.argv[2] ?? '') === 'TSTP')) {
      // As Sidekiq's API (Process#signal): LPUSH and a 60 s expiry, so a signal never read does not stay.
      await ctx.redis.multi().lpush(`${key}-signals`, 'TSTP').expire(`${key}-signals`, 60).exec();
      const quiet = await waitUntil(async () => (await ctx.redis.hget(key, 'quiet')) === 'true', 25_000);
      t.check(quiet, () => 'a TSTP pushed to <identity>-signals (Sidekiq API quiet!) did not make kiqgate quiet');
    }
  } finally {
    await w.stop();
  }
}
