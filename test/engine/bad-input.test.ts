/**
 * Bad input never stops the worker and is never lost: payloads that cannot be decoded go to
 * `dead` inside a Kiqgate::UndecodablePayload job hash holding the reason and their exact bytes;
 * a decodable job with an unknown class fails into retry and is never dropped (not even with
 * retry: false or dead: false); args failing the class's schema send the job straight to dead.
 */
import { describe, expect, it } from 'vitest';
import type { Worker } from '../../src/engine/index.js';
import { UNDECODABLE_CLASS, undecodableOriginal } from '../../src/wire/index.js';
import { testRedis } from '../support/redis.js';
import { pushedPayloads, stopWorkerAfterEach, testWorker, until } from './helpers.js';

const redis = testRedis();
let worker: Worker | undefined;

stopWorkerAfterEach(redis, () => worker);

const good = pushedPayloads('sidekiq-7.3.10/push-simple')[0]!;

const UNDECODABLE: Array<[string, Buffer, string]> = [
  ['invalid JSON', Buffer.from('this is not json'), 'invalid_json'],
  ['invalid UTF-8', Buffer.concat([Buffer.from('{"class":"HardWorker","args":["'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"]}')]), 'invalid_utf8'],
  ['truncated JSON', Buffer.from(good.slice(0, 40)), 'invalid_json'],
  ['args not an array', Buffer.from('{"class":"HardWorker","args":{"a":1},"queue":"default","jid":"x1"}'), 'invalid_job'],
  ['missing class', Buffer.from('{"args":[1],"queue":"default","jid":"x2"}'), 'invalid_job'],
  ['not an object', Buffer.from('[1,2,3]'), 'invalid_job'],
];

describe('bad input', () => {
  it('undecodable payloads go to dead wrapped with their exact bytes and the reason, the next good job runs', async () => {
    const seen: unknown[][] = [];
    worker = testWorker({ queues: { default: 1 }, handlers: { HardWorker: (args) => { seen.push(args); } } });
    const k = worker.keys;
    // Oldest first: every bad payload, then the good one (LPUSH adds at the head, we take from the tail).
    for (const [, raw] of UNDECODABLE) await redis.lpush(k.queue('default'), raw);
    await redis.lpush(k.queue('default'), good);
    await worker.start();
    await until(() => seen.length === 1, 'the good job after the bad ones');
    await until(async () => (await redis.zcard(k.dead)) === UNDECODABLE.length, 'all bad payloads in dead');
    expect(seen[0]).toEqual([1, 'two']);

    const dead = await redis.zrangeBuffer(k.dead, 0, -1);
    for (const [what, raw, code] of UNDECODABLE) {
      const member = dead.find((d) => undecodableOriginal(d)?.equals(raw));
      expect(member, `${what}: exact bytes kept in a dead entry`).toBeDefined();
      const e = JSON.parse(member!.toString('utf8')) as Record<string, unknown>;
      expect(e.class, what).toBe(UNDECODABLE_CLASS);
      expect(e.queue, what).toBe('default');
      expect(e.undecodable_from, what).toBe('queue:default');
      expect(e.undecodable_code, what).toBe(code);
      expect(e.error_class, what).toBe('WireError');
      expect(e.error_message, what).toMatch(new RegExp(`^${code}( \\(\\w+\\))?: `));
      expect(e.jid, what).toMatch(/^[0-9a-f]{24}$/);
      // The worker's peer is sidekiq7 (the default): float seconds.
      expect(typeof e.failed_at, what).toBe('number');
      expect(Math.abs((e.failed_at as number) - Date.now() / 1000)).toBeLessThan(60);
    }
    const score = Number((await redis.zrange(k.dead, 0, 0, 'WITHSCORES'))[1]);
    expect(Math.abs(score - Date.now() / 1000)).toBeLessThan(60);
    await until(async () => (await redis.llen(k.inProgress('default', worker!.nodeId))) === 0, 'in-progress empty');
    expect(await redis.exists(k.key('kiqgate:dead_errors'))).toBe(0);
  });

  it('the same bad bytes twice are two dead entries (each has its own jid)', async () => {
    worker = testWorker({ queues: { default: 1 }, handlers: {} });
    const k = worker.keys;
    await redis.lpush(k.queue('default'), 'null', 'null');
    await worker.start();
    await until(async () => (await redis.zcard(k.dead)) === 2, 'two dead entries');
    const dead = await redis.zrangeBuffer(k.dead, 0, -1);
    expect(dead.map((d) => undecodableOriginal(d)?.toString())).toEqual(['null', 'null']);
  });

  it('a dead set trimmed to deadMaxJobs keeps the newest entries', async () => {
    worker = testWorker({ queues: { default: 1 }, deadMaxJobs: 2, handlers: {} });
    const k = worker.keys;
    const bad = [1, 2, 3, 4, 5].map((i) => Buffer.from(`not json ${i}`));
    for (const raw of bad) await redis.lpush(k.queue('default'), raw);
    await worker.start();
    await until(async () => (await redis.llen(k.queue('default'))) === 0 && (await redis.llen(k.inProgress('default', worker!.nodeId))) === 0, 'all five handled');
    const dead = await redis.zrangeBuffer(k.dead, 0, -1);
    expect(dead.map((d) => undecodableOriginal(d)?.toString())).toEqual(['not json 4', 'not json 5']);
  });

  it('unknown classes (also __proto__, constructor, toString) go to retry, schema failures to dead, with a clear message', async () => {
    const seen: unknown[][] = [];
    worker = testWorker({
      handlers: {
        HardWorker: (args) => { seen.push(args); },
        Typed: { handler: (args) => { seen.push(args); }, argsSchema: { type: 'array', prefixItems: [{ type: 'integer' }], minItems: 1 } },
      },
    });
    const k = worker.keys;
    const classes = ['Foo', '__proto__', 'constructor', 'toString', 'hasOwnProperty'];
    for (const c of classes) await redis.lpush(k.queue('default'), good.replace('"class":"HardWorker"', `"class":${JSON.stringify(c)}`));
    await redis.lpush(k.queue('default'), JSON.stringify({ class: 'Typed', args: ['not an int'], queue: 'default', jid: 'typed1', retry: true }));
    await redis.lpush(k.queue('default'), JSON.stringify({ class: 'Typed', args: [7], queue: 'default', jid: 'typed2', retry: true }));
    await redis.lpush(k.queue('default'), good);
    await worker.start();
    await until(async () => (await redis.zcard(k.retry)) === classes.length, 'retry entries');
    await until(async () => (await redis.zcard(k.dead)) === 1, 'the schema failure in dead');
    await until(() => seen.length === 2, 'good jobs');
    expect(seen).toContainEqual([7]);
    expect(seen).toContainEqual([1, 'two']);
    const entries = (await redis.zrange(k.retry, 0, -1)).map((e) => JSON.parse(e) as Record<string, unknown>);
    for (const c of classes) {
      const e = entries.find((x) => x.class === c)!;
      expect(e.error_message).toBe(`unknown job class '${c}': no handler registered`);
      expect(e.error_class).toBe('UnknownJobClass');
      expect(e.retry_count).toBe(0);
    }
    expect(entries.some((x) => x.class === 'Typed')).toBe(false);
    const typed = JSON.parse((await redis.zrange(k.dead, 0, -1))[0]!) as Record<string, unknown>;
    expect(typed).toMatchObject({ jid: 'typed1', error_class: 'InvalidJobArgs', retry_count: 0 });
    expect(typed.error_message).toMatch(/args of job class 'Typed' fail its schema: \/0 must be integer/);
  });

  it('no job is dropped for a deployment mistake: unknown classes retry despite retry: false and die despite dead: false; bad args go to dead; a handler failure with retry: false is still dropped', async () => {
    worker = testWorker({
      maxRetries: 1,
      handlers: {
        Fails: () => { throw new Error('handler failed'); },
        Typed: { handler: () => undefined, argsSchema: { type: 'array', prefixItems: [{ type: 'integer' }], minItems: 1 } },
      },
    });
    const k = worker.keys;
    const j = (jid: string, cls: string, args: unknown[], extra: Record<string, unknown>) => JSON.stringify({ class: cls, args, queue: 'default', jid, ...extra });
    await redis.lpush(k.queue('default'),
      j('u1', 'Missing', [1], { retry: false }),
      j('u2', 'Missing', [1], { retry: false, dead: false, retry_count: 0, failed_at: 1795872507.2, error_message: 'x', error_class: 'UnknownJobClass' }),
      j('u3', 'Missing', [1], { retry: 2, dead: false, retry_count: 1, failed_at: 1795872507.2, error_message: 'x', error_class: 'UnknownJobClass' }),
      j('a1', 'Typed', ['nope'], { retry: false }),
      j('a2', 'Typed', ['nope'], { retry: true, dead: false }),
      j('h1', 'Fails', [1], { retry: false }),
    );
    await worker.start();
    await until(async () => (await redis.get(k.stat('failed'))) === '6', 'six failures');
    await until(async () => (await redis.llen(k.inProgress('default', worker!.nodeId))) === 0, 'in-progress empty');
    const parse = (xs: string[]) => xs.map((x) => JSON.parse(x) as Record<string, unknown>);
    const retry = parse(await redis.zrange(k.retry, 0, -1));
    const dead = parse(await redis.zrange(k.dead, 0, -1));
    // u1: first failure of an unknown class, retry: false → retry with the worker's maxRetries (1).
    expect(retry.map((e) => e.jid)).toEqual(['u1']);
    expect(retry[0]).toMatchObject({ retry: false, retry_count: 0, error_class: 'UnknownJobClass' });
    const [, score] = await redis.zrange(k.retry, 0, -1, 'WITHSCORES');
    expect(Number(score) - Number(retry[0]!.failed_at)).toBeGreaterThanOrEqual(15); // Sidekiq's backoff, not at once
    // u2/u3: exhausted unknown classes with dead: false → dead; a1/a2: bad args → dead at once.
    expect(dead.map((e) => e.jid).sort()).toEqual(['a1', 'a2', 'u2', 'u3']);
    expect(dead.find((e) => e.jid === 'u2')).toMatchObject({ retry_count: 1, error_class: 'UnknownJobClass' });
    expect(dead.find((e) => e.jid === 'u3')).toMatchObject({ retry_count: 2, error_class: 'UnknownJobClass' });
    for (const jid of ['a1', 'a2']) expect(dead.find((e) => e.jid === jid)).toMatchObject({ retry_count: 0, error_class: 'InvalidJobArgs' });
    // h1: the handler ran and failed, retry: false → dropped, as Sidekiq does.
    expect(await redis.llen(k.queue('default'))).toBe(0);
    expect([...retry, ...dead].some((e) => e.jid === 'h1')).toBe(false);
  });
});
