/**
 * Class names resolve only through the registry: hostile names (`__proto__`, `constructor`,
 * `toString`, paths, module names) never run anything, end as UnknownJobClass failures in the
 * retry set, and the worker goes on. A per-class args schema (ajv) stops bad args before the
 * handler runs and sends the job straight to dead.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { Worker } from '../../src/engine/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { KeyLayout } from '../../src/wire/index.js';
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

const HOSTILE = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'prototype',
  '../../etc/passwd', '/etc/passwd', 'child_process', 'node:child_process', 'process.exit', 'process', 'globalThis',
  'eval', 'require', 'Object', 'Function', 'Good.constructor', 'Inherited'];

/** Every retry/dead entry, parsed, by jid. */
async function failures(keys: KeyLayout): Promise<Map<string, Record<string, unknown> & { set: string }>> {
  const out = new Map<string, Record<string, unknown> & { set: string }>();
  for (const set of [keys.retry, keys.dead]) {
    for (const m of await admin.zrange(set, 0, -1)) {
      const doc = JSON.parse(m) as Record<string, unknown>;
      out.set(String(doc.jid), { ...doc, set });
    }
  }
  return out;
}

describe('class names resolve only through the registry', () => {
  it.each([
    ['an object of handlers (with an inherited one)', 'object'],
    ['a Map of handlers', 'map'],
  ] as const)('hostile class names never run anything, go to retry as UnknownJobClass, and the worker goes on: %s', async (_label, kind) => {
    const ns = `cls-${kind}`;
    const keys = new KeyLayout(ns);
    const good: unknown[] = [];
    const good_ = (args: unknown[]) => { good.push(args); };
    // An inherited property is not a job class: only own properties of an object count.
    const table = kind === 'object'
      ? Object.assign(Object.create({ Inherited: () => { throw new Error('inherited handler ran'); } }) as Record<string, typeof good_>, { Good: good_ })
      : new Map([['Good', good_]]);
    const worker = new Worker({ redis: server.url, namespace: ns, logger: silent, sidekiqHeartbeat: false, pollIntervalMs: 60_000, handlers: table });
    expect(worker.registry.names()).toEqual(['Good']);
    const exitBefore = process.exit;
    await worker.start();
    const client = new Client({ redis: server.url, namespace: ns });
    try {
      const jids = new Map<string, string>(); // a Map: `jids['__proto__'] = …` would set the prototype
      for (const name of HOSTILE) jids.set(name, await client.enqueue({ class: name, args: [1, 'rm -rf /'] }));
      // Raw payloads too, where `class` comes after a __proto__ key.
      await admin.lpush(keys.queue('default'), '{"__proto__":{"class":"Good"},"class":"constructor","args":[],"jid":"rawproto00000000000000aa","queue":"default"}');
      const lastJid = await client.enqueue({ class: 'Good', args: ['after'] });
      await until(() => good.length === 1, 'the good job after the hostile ones');
      await until(async () => (await failures(keys)).size === HOSTILE.length + 1, 'every hostile job recorded');
      expect(good).toEqual([['after']]);
      expect(process.exit).toBe(exitBefore);
      const recorded = await failures(keys);
      for (const name of HOSTILE) {
        const entry = recorded.get(jids.get(name)!)!;
        expect(entry, name).toBeDefined();
        expect(entry.set).toBe(keys.retry);
        expect(entry.class).toBe(name);
        expect(entry.error_class).toBe('UnknownJobClass');
        expect(entry.error_message).toBe(`unknown job class '${name}': no handler registered`);
        expect(entry.retry_count).toBe(0);
      }
      expect(recorded.get('rawproto00000000000000aa')).toMatchObject({ class: 'constructor', error_class: 'UnknownJobClass' });
      expect(lastJid).toMatch(/^[0-9a-f]{24}$/);
      expect(await admin.llen(keys.inProgress('default', worker.nodeId))).toBe(0);
    } finally {
      await client.close();
      await worker.stop();
    }
  });

  it('args schema (ajv, JSON Schema 2020-12): bad args fail as InvalidJobArgs before the handler runs', async () => {
    const ns = 'cls-schema';
    const keys = new KeyLayout(ns);
    const calls: unknown[] = [];
    const worker = new Worker({
      redis: server.url, namespace: ns, logger: silent, sidekiqHeartbeat: false, pollIntervalMs: 60_000,
      handlers: {
        Transfer: {
          argsSchema: { type: 'array', prefixItems: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^[A-Z]{3}$' }], items: false, minItems: 2 },
          handler: (args) => { calls.push(args); },
        },
      },
    });
    await worker.start();
    const client = new Client({ redis: server.url, namespace: ns });
    try {
      const ok = await client.enqueue({ class: 'Transfer', args: [5, 'EUR'] });
      const bad = {
        wrongType: await client.enqueue({ class: 'Transfer', args: ['5', 'EUR'] }),
        tooMany: await client.enqueue({ class: 'Transfer', args: [5, 'EUR', { cmd: 'rm -rf /' }] }),
        pattern: await client.enqueue({ class: 'Transfer', args: [5, 'euro'], retry: 0 }),
        missing: await client.enqueue({ class: 'Transfer', args: [] }),
      };
      await until(async () => (await failures(keys)).size === 4, 'four schema failures');
      expect(calls).toEqual([[5, 'EUR']]);
      const recorded = await failures(keys);
      for (const [what, jid] of Object.entries(bad)) {
        const e = recorded.get(jid)!;
        expect(e.error_class, what).toBe('InvalidJobArgs');
        expect(String(e.error_message)).toMatch(/^args of job class 'Transfer' fail its schema: /);
        expect(e.set, what).toBe(keys.dead); // retrying the same args cannot help
      }
      expect(recorded.get(bad.wrongType)!.error_message).toContain('/0 must be integer');
      expect(recorded.has(ok)).toBe(false);
    } finally {
      await client.close();
      await worker.stop();
    }
  });

  it('a schema that does not compile is an error when the worker is built, not at the first job', () => {
    expect(() => new Worker({ logger: silent, handlers: { Bad: { handler: () => undefined, argsSchema: { type: 'no-such-type' } } } }))
      .toThrow(/argsSchema of job class 'Bad' does not compile/);
  });
});
