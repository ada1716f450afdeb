/**
 * A fetch whose reply is lost must not strand its jobs in the live node's in-progress list.
 *
 * The worker reaches a private redis-server through a TCP proxy that can lose the reply of one
 * chosen command: it forwards the command, then an `ECHO <marker>` of its own, swallows every
 * byte the server sends back from then on, and cuts the connection once the marker's reply came
 * back. Redis answers in order, so at the cut the command surely ran and its reply surely never
 * reached ioredis, which reconnects and resends it: deterministically the lost-reply window.
 */
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Client } from '../../src/client/index.js';
import { Worker } from '../../src/engine/index.js';
import { strandedEntries } from '../../src/engine/in-progress-audit.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { until } from './helpers.js';

/** One complete RESP command (array of bulk strings) at `pos`, or undefined if not all here yet. */
function parseCommand(buf: Buffer, pos: number): { args: string[]; end: number } | undefined {
  const line = (at: number): { text: string; next: number } | undefined => {
    const nl = buf.indexOf('\r\n', at);
    return nl < 0 ? undefined : { text: buf.toString('latin1', at, nl), next: nl + 2 };
  };
  const head = line(pos);
  if (!head) return undefined;
  const args: string[] = [];
  let at = head.next;
  for (let i = 0; i < Number(head.text.slice(1)); i++) {
    const len = line(at);
    if (!len) return undefined;
    const n = Number(len.text.slice(1));
    if (buf.length < len.next + n + 2) return undefined;
    args.push(buf.toString('latin1', len.next, len.next + n));
    at = len.next + n + 2;
  }
  return { args, end: at };
}

interface Cut { match: (args: string[]) => boolean; sent: () => void; done: () => void }

class ReplyDropper {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private armed: Cut | undefined;
  cuts = 0;

  constructor(private readonly target: number) {
    this.server = createServer((client) => this.pipe(client));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    return `redis://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }

  /** Loses the reply of the next command `match` accepts; `sent` when it reached Redis, `cut` after. */
  arm(match: (args: string[]) => boolean): { sent: Promise<void>; cut: Promise<void> } {
    let sent!: () => void;
    let done!: () => void;
    const out = { sent: new Promise<void>((r) => { sent = r; }), cut: new Promise<void>((r) => { done = r; }) };
    this.armed = { match, sent, done };
    return out;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(client: Socket): void {
    const upstream = connect(this.target, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => { this.sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
    let pending = Buffer.alloc(0);
    let cutting: { marker: string; seen: string; done: () => void } | undefined;
    client.on('data', (chunk: Buffer) => {
      if (cutting) return; // nothing more reaches Redis on this connection
      pending = Buffer.concat([pending, chunk]);
      let pos = 0;
      for (let cmd = parseCommand(pending, pos); cmd; cmd = parseCommand(pending, pos)) {
        pos = cmd.end;
        const armed = this.armed;
        if (armed?.match(cmd.args)) {
          this.armed = undefined;
          this.cuts++;
          const marker = `kg-cut-${randomUUID()}`;
          cutting = { marker, seen: '', done: armed.done };
          upstream.write(pending.subarray(0, pos));
          upstream.write(`*2\r\n$4\r\nECHO\r\n$${marker.length}\r\n${marker}\r\n`);
          armed.sent();
          return;
        }
      }
      if (pos > 0) upstream.write(pending.subarray(0, pos));
      pending = pending.subarray(pos);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!cutting) {
        client.write(chunk);
        return;
      }
      cutting.seen = (cutting.seen + chunk.toString('latin1')).slice(-(cutting.marker.length + 64));
      if (cutting.seen.includes(cutting.marker)) {
        client.destroy();
        upstream.destroy();
        cutting.done();
      }
    });
  }
}

const isFetchTick = (q: string) => (args: string[]) => /^eval(sha)?$/i.test(args[0] ?? '') && args[3] === `queue:${q}` && Number(args[8]) > 0;
const isBlmove = (q: string) => (args: string[]) => args[0]?.toLowerCase() === 'blmove' && args[1] === `queue:${q}`;

let server: RedisServerHandle;
let proxy: ReplyDropper;
let proxyUrl: string;
let admin: Redis;
let client: Client;

beforeAll(async () => {
  server = await startRedisServer();
  proxy = new ReplyDropper(server.port);
  proxyUrl = await proxy.listen();
  admin = new Redis(server.url);
  client = new Client({ redis: server.url });
});

afterAll(async () => {
  await client?.close();
  admin?.disconnect();
  await proxy?.close();
  await server?.stop();
});

/** A worker on `q` through the proxy; records each run; its warn lines are kept for the test to read. */
function worker(q: string, opts: { heartbeatMs: number; sleepMs: number; concurrency?: number }) {
  const runs = new Map<string, number>();
  const logs: string[] = [];
  const logger = pino({ level: 'warn' }, new Writable({ write(line, _enc, cb) { logs.push(String(line)); cb(); } }));
  const w = new Worker({
    redis: proxyUrl, queues: { [q]: opts.concurrency ?? 2 }, logger, sidekiqHeartbeat: false,
    heartbeatMs: opts.heartbeatMs, blockTimeoutSeconds: 1, shutdownTimeoutMs: 2_000,
    handlers: {
      Job: async (_args, ctx) => {
        await new Promise((r) => setTimeout(r, opts.sleepMs));
        runs.set(ctx.jid!, (runs.get(ctx.jid!) ?? 0) + 1);
      },
    },
  });
  const givenBack = () => logs.filter((l) => l.includes('stranded')).reduce((n, l) => n + Number((JSON.parse(l) as { moved: number }).moved), 0);
  return { w, runs, givenBack };
}

/** Every enqueued jid ran and the in-progress list is empty, while the worker still runs. */
async function allRanNothingStranded(w: Worker, q: string, runs: Map<string, number>, jids: string[]): Promise<void> {
  const want = [...jids].sort();
  await until(async () => {
    const ran = [...runs.keys()].sort();
    return ran.length === want.length && ran.every((j, i) => j === want[i]) && await admin.llen(`inprogress:${q}:${w.nodeId}`) === 0;
  }, 'every job to run and in-progress to empty', 20_000);
  expect([...runs.keys()].sort()).toEqual(want);
  expect(await admin.llen(`inprogress:${q}:${w.nodeId}`)).toBe(0);
  expect(await admin.llen(`queue:${q}`)).toBe(0);
}

describe('a fetch whose reply is lost', () => {
  it('ack-and-fetch tick: the stranded batch is given back and runs while the worker runs', async () => {
    // A heartbeat far beyond the test: the give-back must come from the reconnect, not the timer.
    const { w, runs, givenBack } = worker('tick', { heartbeatMs: 600_000, sleepMs: 20 });
    const jids = await client.enqueueBulk({ class: 'Job', queue: 'tick', args: Array.from({ length: 30 }, (_, i) => [i]) });
    const cut = proxy.arm(isFetchTick('tick')); // the worker's first fetch loses its reply
    await w.start();
    try {
      await cut.cut;
      await allRanNothingStranded(w, 'tick', runs, jids);
      expect(givenBack()).toBeGreaterThan(0); // the first batch really was stranded, and given back
    } finally {
      await w.stop();
    }
  });

  it('BLMOVE: the job it moved is given back and runs while the worker runs', async () => {
    const { w, runs, givenBack } = worker('block', { heartbeatMs: 600_000, sleepMs: 5 });
    await w.start();
    try {
      const cut = proxy.arm(isBlmove('block'));
      await cut.sent; // the next BLMOVE is blocked in Redis; the job below is its reply, lost
      const first = await client.enqueue({ class: 'Job', queue: 'block', args: ['first'] });
      await cut.cut;
      const rest = await client.enqueueBulk({ class: 'Job', queue: 'block', args: Array.from({ length: 10 }, (_, i) => [i]) });
      await allRanNothingStranded(w, 'block', runs, [first, ...rest]);
      expect(givenBack()).toBe(1);
    } finally {
      await w.stop();
    }
  });

  it('the periodic audit gives nothing back that a slot holds: each job runs exactly once', async () => {
    // Audits every 20 ms while jobs are prefetched, running and being acked, with no fault.
    const { w, runs, givenBack } = worker('busy', { heartbeatMs: 20, sleepMs: 15, concurrency: 5 });
    const jids = await client.enqueueBulk({ class: 'Job', queue: 'busy', args: Array.from({ length: 300 }, (_, i) => [i]) });
    await w.start();
    try {
      await allRanNothingStranded(w, 'busy', runs, jids);
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
      expect(givenBack()).toBe(0);
    } finally {
      await w.stop();
    }
  });
});

describe('strandedEntries', () => {
  it('is a multiset difference of exact bytes, in list order', () => {
    const a = Buffer.from('{"jid":"a"}');
    const bad = Buffer.from([0xff, 0xfe, 0x00]);
    const list = [a, bad, a, Buffer.from([0xff, 0xfd, 0x00])];
    expect(strandedEntries(list, [Buffer.from(a), bad])).toEqual([a, Buffer.from([0xff, 0xfd, 0x00])]);
    expect(strandedEntries(list, [a, a, bad, Buffer.from([0xff, 0xfd, 0x00])])).toEqual([]);
    expect(strandedEntries([], [a])).toEqual([]);
  });
});
