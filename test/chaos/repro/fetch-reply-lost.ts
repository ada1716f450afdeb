/**
 * Reproduction (fixed by src/engine/in-progress-audit.ts; kept as a regression check: it must
 * print "no job stranded"): a fetch whose reply is lost (the connection drops after Redis ran the
 * fetch script) used to strand the fetched jobs in the live node's in-progress list.
 *
 * ioredis resends unfulfilled commands after a reconnect (autoResendUnfulfilledCommands, on by
 * default), so the fetch script runs a second time and moves a second batch; the first batch,
 * already moved into `inprogress:<q>:<node>`, is in no runner's memory. The node's own list is
 * recovered only at its start (QueueRunner.recovered) or stop, and its heartbeat keeps peers off
 * it, so those jobs wait until this node stops or dies.
 *
 *   npx tsx test/chaos/repro/fetch-reply-lost.ts
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Client } from '../../../src/client/index.js';
import { Worker } from '../../../src/engine/index.js';
import { startRedisServer } from '../../../src/support/redis-server.js';

const server = await startRedisServer();
const admin = new Redis(server.url);
let armed = false;
let cut = 0;
type Cmd = { name: string; args: unknown[] };
const proto = Redis.prototype as unknown as { sendCommand: (this: Redis & { stream: { destroy(): void } }, c: Cmd, s?: unknown) => unknown };
const send = proto.sendCommand;
proto.sendCommand = function (cmd, stream) {
  const out = send.call(this, cmd, stream);
  const isFetch = (cmd.name === 'evalsha' || cmd.name === 'eval') && String(cmd.args[2]).startsWith('queue:') && String(cmd.args[3]).startsWith('inprogress:');
  if (armed && isFetch) {
    armed = false;
    cut++;
    setImmediate(() => this.stream.destroy()); // the request left; its reply never arrives
  }
  return out;
};

const ran = new Set<string>();
const worker = new Worker({
  redis: server.url, queues: { q: 5 }, logger: pino({ level: 'silent' }), sidekiqHeartbeat: false,
  handlers: { Job: async (_a, ctx) => { await new Promise((r) => setTimeout(r, 200)); ran.add(ctx.jid!); } },
});
await worker.start();
const client = new Client({ redis: server.url });
const jids = await client.enqueueBulk({ class: 'Job', queue: 'q', args: Array.from({ length: 40 }, (_, i) => [i]) });
await new Promise((r) => setTimeout(r, 100));
armed = true; // the next fetch (when a slot frees) loses its reply
await new Promise((r) => setTimeout(r, 8_000));
const stranded = await admin.llen(`inprogress:q:${worker.nodeId}`);
console.log(`connection cut after ${cut} fetch(es); ran ${ran.size} of ${jids.length}; queue ${await admin.llen('queue:q')}; in progress of the live node ${stranded}; running now ${worker.running().length}`);
console.log(stranded > worker.running().length ? `BUG: ${stranded - worker.running().length} jobs stranded in the live node's in-progress list` : 'no job stranded');
await worker.stop();
console.log(`after stop(): ran ${ran.size}, queue ${await admin.llen('queue:q')} (stop gave the stranded jobs back)`);
await client.close();
admin.disconnect();
await server.stop();
