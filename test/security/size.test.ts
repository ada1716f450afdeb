/**
 * Payload size limits, on by default (8 MiB): the Client refuses to enqueue a larger job
 * (WireError too_large naming size and limit, nothing written), and the Worker moves a larger
 * fetched payload to dead unread, exact bytes kept (raw_base64) and the reason in its dead entry.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { Worker } from '../../src/engine/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, KeyLayout, WireError, undecodableOriginal } from '../../src/wire/index.js';
import { silent, until } from './helpers.js';

let server: RedisServerHandle;
let admin: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  admin = new Redis(server.url);
});
afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

async function keysUnder(ns: string): Promise<string[]> {
  return admin.keys(`${ns}:*`);
}

async function tooLarge(p: Promise<unknown>): Promise<WireError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WireError);
  expect((err as WireError).code).toBe('too_large');
  return err as WireError;
}

describe('enqueue size limit', () => {
  it('a configured limit: too_large names size and limit; nothing is written (single, scheduled, bulk)', async () => {
    const ns = 'size-enq';
    const client = new Client({ redis: server.url, namespace: ns, maxPayloadBytes: 1000 });
    try {
      const err = await tooLarge(client.enqueue({ class: 'Big', args: ['x'.repeat(1000)] }));
      expect(err.message).toMatch(/^payload is (\d+) bytes, over the 1000-byte limit$/);
      expect(Number(/is (\d+) bytes/.exec(err.message)![1])).toBeGreaterThan(1000);
      await tooLarge(client.enqueue({ class: 'Big', args: ['x'.repeat(1000)], in: 60 }));
      const bulk = await tooLarge(client.enqueueBulk({ class: 'Big', args: [[1], [2], ['x'.repeat(2000)], [4]] }));
      expect(bulk.message).toMatch(/^args\[2\]: payload is \d+ bytes, over the 1000-byte limit$/);
      expect(await keysUnder(ns)).toEqual([]);
      await client.enqueue({ class: 'Small', args: ['x'.repeat(800)] }); // under the limit: fine
      expect(await admin.llen(`${ns}:queue:default`)).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('the default limit (8 MiB) is on without configuration', async () => {
    const ns = 'size-enq-default';
    const client = new Client({ redis: server.url, namespace: ns });
    try {
      const err = await tooLarge(client.enqueue({ class: 'Big', args: ['x'.repeat(DEFAULT_MAX_PAYLOAD_BYTES)] }));
      expect(DEFAULT_MAX_PAYLOAD_BYTES).toBe(8 * 1024 * 1024);
      expect(err.message).toMatch(/^payload is \d+ bytes, over the 8388608-byte limit$/);
      expect(await keysUnder(ns)).toEqual([]);
    } finally {
      await client.close();
    }
  });
});

describe('fetch size limit', () => {
  it.each([
    ['a configured limit of 1000 bytes', 1000, 2000],
    ['the default limit (8 MiB)', undefined, DEFAULT_MAX_PAYLOAD_BYTES + 1],
  ] as const)('%s: an over-limit payload goes to dead unread with its exact bytes; the next job runs', async (_l, limit, size) => {
    const ns = `size-fetch-${limit ?? 'default'}`;
    const keys = new KeyLayout(ns);
    const ran: unknown[] = [];
    const worker = new Worker({
      redis: server.url, namespace: ns, logger: silent, sidekiqHeartbeat: false, pollIntervalMs: 60_000,
      ...(limit === undefined ? {} : { maxPayloadBytes: limit }),
      handlers: { Big: () => { ran.push('big'); }, Small: () => { ran.push('small'); } },
    });
    // A valid job of a registered class, padded to `size` bytes, with bytes that are not UTF-8.
    const head = Buffer.from('{"class":"Big","args":["');
    const tail = Buffer.from('"],"jid":"bigbigbigbigbigbigbigbigb","queue":"default"}');
    const pad = Buffer.alloc(size - head.length - tail.length, 0x61);
    pad[0] = 0xff;
    const raw = Buffer.concat([head, pad, tail]);
    expect(raw.length).toBe(size);
    await admin.lpush(keys.queue('default'), raw);
    await admin.lpush(keys.queue('default'), '{"class":"Small","args":[],"jid":"smallsmallsmallsmall0000","queue":"default"}');
    await worker.start();
    try {
      await until(() => ran.length === 1, 'the small job');
      await until(async () => (await admin.zcard(keys.dead)) === 1, 'the big payload in dead');
    } finally {
      await worker.stop();
    }
    expect(ran).toEqual(['small']);
    const [stored] = await admin.zrangeBuffer(keys.dead, 0, -1);
    expect(undecodableOriginal(stored!)?.equals(raw)).toBe(true);
    const why = JSON.parse(stored!.toString('utf8')) as Record<string, unknown>;
    expect(why).toMatchObject({ undecodable_code: 'too_large', error_class: 'WireError', error_message: `too_large: payload is ${size} bytes, over the ${limit ?? DEFAULT_MAX_PAYLOAD_BYTES}-byte limit` });
    expect(await admin.llen(keys.inProgress('default', worker.nodeId))).toBe(0);
  });
});
