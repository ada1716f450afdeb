/**
 * `kiqgate enqueue` end to end: the real CLI process against the real Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis as IORedis, type Redis } from 'ioredis';
import { startRedisServer } from '../../src/support/redis-server.js';
import { decodeJob, parseObject, stringifyJson } from '../../src/wire/index.js';
import { runCli } from '../support/cli.js';
import { dropNamespace, testRedis, TEST_REDIS_URL, uniqueNamespace } from '../support/redis.js';

let redis: Redis;
const ns = uniqueNamespace('cli');
beforeAll(() => { redis = testRedis(); });
afterAll(async () => { await dropNamespace(redis, ns); await redis.quit(); });

describe('kiqgate enqueue', () => {
  it('prints the jid and pushes the exact args (2^62, -2^63, 1.0, unicode) as Sidekiq would', async () => {
    const r = await runCli(['enqueue', '--redis', TEST_REDIS_URL, '--namespace', ns, '--queue', 'mail', '--class', 'HardJob',
      '--args', '[4611686018427387904, -9223372036854775808, 1.0, "e\u0301😀", {"__proto__": {"x": []}}]', '--retry', '3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const jid = r.stdout.trim();
    expect(jid).toMatch(/^[0-9a-f]{24}$/);
    expect(await redis.smembers(`${ns}:queues`)).toEqual(['mail']);
    const [payload] = await redis.lrange(`${ns}:queue:mail`, 0, -1);
    const doc = parseObject(payload!);
    expect(doc.keys()).toEqual(['retry', 'queue', 'class', 'args', 'jid', 'created_at', 'enqueued_at']);
    expect(stringifyJson(doc.get('args')!)).toBe('[4611686018427387904,-9223372036854775808,1.0,"e\u0301😀",{"__proto__":{"x":[]}}]');
    const job = decodeJob(payload!);
    expect(job.jid).toBe(jid);
    expect(job.retry).toBe(3);
    expect(job.args[0]).toBe(4611686018427387904n);
    expect(job.args[1]).toBe(-9223372036854775808n);
  });

  it('schedules with --in for Verk in integer seconds, without SADD queues', async () => {
    const r = await runCli(['enqueue', '--redis', TEST_REDIS_URL, '--namespace', ns, '--peer', 'verk', '--class', 'ExampleWorker', '--args', '[1,2]', '--in', '60']);
    expect(r.code).toBe(0);
    const entries = await redis.zrange(`${ns}:schedule`, 0, -1, 'WITHSCORES');
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatch(/^\d{10}$/);
    expect(JSON.parse(entries[0]!)).toMatchObject({ args: '[1,2]', class: 'ExampleWorker', enqueued_at: null, jid: r.stdout.trim() });
  });

  it.each([
    [['--class', 'X', '--args', '"str"'], '--args must be a JSON array'],
    [['--class', 'X', '--args', '[1'], '--args is not valid JSON'],
    [['--args', '[]'], '--class is required'],
    [['--class', 'X', '--args', '[]', '--retry', 'maybe'], '--retry must be true, false or a non-negative integer'],
    [['--class', 'X', '--args', '[]', '--at', 'tomorrow-ish'], '--at must be an ISO 8601 time'],
    [['--class', 'X', '--args', '[]', '--peer', 'bullmq'], '--peer must be one of'], // resque is spoken now (test/cli/resque.test.ts)
  ])('rejects bad input %j with a clear error and writes nothing', async (args, message) => {
    const before = await redis.keys(`${ns}:*`);
    const r = await runCli(['enqueue', '--redis', TEST_REDIS_URL, '--namespace', ns, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect((await redis.keys(`${ns}:*`)).sort()).toEqual(before.sort());
  });

  it('reads KIQGATE_REDIS_URL as the worker does: over REDIS_URL, under --redis', async () => {
    const server = await startRedisServer();
    const priv = new IORedis(server.url);
    try {
      const enqueue = (args: string[], env: Record<string, string>) =>
        runCli(['enqueue', '--namespace', ns, '--queue', 'env', '--class', 'X', ...args], env);
      // Only KIQGATE_REDIS_URL (an empty REDIS_URL counts as unset).
      const only = await enqueue(['--args', '[1]'], { KIQGATE_REDIS_URL: server.url, REDIS_URL: '' });
      expect(only.stderr).toBe('');
      expect(only.code).toBe(0);
      // Both: KIQGATE_REDIS_URL wins, as in the worker's configuration.
      const both = await enqueue(['--args', '[2]'], { KIQGATE_REDIS_URL: server.url, REDIS_URL: TEST_REDIS_URL });
      expect(both.code).toBe(0);
      // --redis wins over both.
      const flag = await enqueue(['--args', '[3]', '--redis', TEST_REDIS_URL], { KIQGATE_REDIS_URL: server.url });
      expect(flag.code).toBe(0);
      const args = async (r: Redis) => (await r.lrange(`${ns}:queue:env`, 0, -1)).map((p) => JSON.parse(p).args[0] as number).sort();
      expect(await args(priv)).toEqual([1, 2]);
      expect(await args(redis)).toEqual([3]);
    } finally {
      priv.disconnect();
      await server.stop();
    }
  });

  it('says which Redis it could not reach, with the password redacted', async () => {
    const r = await runCli(['enqueue', '--class', 'X', '--args', '[]'], { REDIS_URL: 'redis://app:s3cret-pw@127.0.0.1:1/0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach Redis at redis://app:***@127.0.0.1:1/0');
    expect(r.stderr).not.toContain('s3cret-pw');
  });
});
