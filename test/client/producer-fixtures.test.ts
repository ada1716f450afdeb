/**
 * Producer fixture replay: for every producer scenario captured from real Sidekiq 6.4.1 / 7.3.10
 * / 8.1.7 and Verk 1.7.3, kiqgate's Client given the same inputs sends the same commands in the
 * same order (seen through MONITOR on the real Redis), leaves keys of the same names and types,
 * and writes payloads equal field by field in format (and exactly where not random).
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { compareCommands, isActionCommand } from '../../src/compat/commands-compare.js';
import { CommandLog } from '../../src/compat/monitor.js';
import type { Peer } from '../../src/wire/index.js';
import { argvStrings, loadFixture } from '../support/fixtures.js';
import { TEST_REDIS_URL, dropNamespace, testRedis, uniqueNamespace } from '../support/redis.js';

interface Scenario {
  set: string;
  scenario: string;
  peer: Peer;
  /** What the peer's producer code did, as kiqgate calls. */
  run: (c: Client) => Promise<unknown>;
  /** The key prefix the capture shows under the test's namespace (Resque's `resque:`). */
  prefix?: string;
}

const inMinute = () => Date.now() + 60_000;
const scenarios: Scenario[] = [];
for (const [set, peer] of [['sidekiq-6.4.1', 'sidekiq6'], ['sidekiq-7.3.10', 'sidekiq7'], ['sidekiq-8.1.7', 'sidekiq8']] as const) {
  scenarios.push(
    { set, peer, scenario: 'push-simple', run: (c) => c.enqueue({ class: 'HardWorker', args: [1, 'two'] }) },
    { set, peer, scenario: 'push-retry-false', run: (c) => c.enqueue({ class: 'HardWorker', args: [1, 'two'], retry: false }) },
    {
      set, peer, scenario: 'push-queue-options',
      run: (c) => c.enqueue({ class: 'HardWorker', args: [1, 'two'], queue: 'critical', retry: 3, backtrace: true, tags: ['a'] }),
    },
    {
      set, peer, scenario: 'push-at',
      run: async (c) => {
        await c.enqueue({ class: 'HardWorker', args: [1, 'two'], at: inMinute() });
        await c.enqueue({ class: 'HardWorker', args: [3, 'four'], in: 60 });
      },
    },
    {
      set, peer, scenario: 'push-bulk',
      run: async (c) => {
        await c.enqueueBulk({ class: 'HardWorker', args: [[1], [2], [3]] });
        await c.enqueueBulk({ class: 'HardWorker', args: [[4], [5]], at: [inMinute(), inMinute() + 60_000] });
      },
    },
  );
}
scenarios.push(
  { set: 'verk-1.7.3', peer: 'verk', scenario: 'enqueue', run: (c) => c.enqueue({ class: 'ExampleWorker', args: [1, 2], retry: 5 }) },
  { set: 'verk-1.7.3', peer: 'verk', scenario: 'schedule', run: (c) => c.enqueue({ class: 'ExampleWorker', args: [1, 2], retry: 5, in: 60 }) },
  // Resque's push plan: SADD queues + RPUSH per job (enqueue, then enqueue_to twice).
  { set: 'resque-3.0.0', peer: 'resque', prefix: 'resque', scenario: 'enqueue', run: (c) => c.enqueue({ class: 'HardJob', args: [1, 'two', { three: 3 }] }) },
  {
    set: 'resque-3.0.0', peer: 'resque', prefix: 'resque', scenario: 'enqueue-to',
    run: (c) => c.enqueueBulk([{ class: 'HardJob', args: ['first', 1], queue: 'critical' }, { class: 'HardJob', args: ['second', 2], queue: 'critical' }]),
  },
);

let log: CommandLog;
let redis: Redis;

beforeAll(async () => {
  redis = testRedis();
  log = await CommandLog.start(TEST_REDIS_URL);
});
afterAll(async () => {
  log.stop();
  await redis.quit();
});

describe('producer replays the captured producer scenarios', () => {
  for (const s of scenarios) {
    it(`${s.set}/${s.scenario}: same commands, keys and payload formats`, async () => {
      const fx = loadFixture(s.set, s.scenario);
      const ns = uniqueNamespace('prod');
      const client = new Client({ redis: TEST_REDIS_URL, peer: s.peer, namespace: s.prefix ? `${ns}:${s.prefix}` : ns });
      try {
        await s.run(client);
        const expected = fx.commands.map(argvStrings).filter(isActionCommand);
        const actual = await log.waitForCount(ns, expected.length);
        // Same commands, in the same order, to the same keys, with payloads of the same shape.
        expect(compareCommands(expected, actual)).toEqual([]);

        // The same keys, of the same types, are left behind.
        const keys = (await redis.keys(`${ns}:*`)).map((k) => k.slice(ns.length + 1)).sort();
        expect(keys).toEqual(Object.keys(fx.state).sort());
        for (const k of keys) expect(await redis.type(`${ns}:${k}`), `type of ${k}`).toBe(fx.state[k]!.type);
      } finally {
        await client.close();
        await dropNamespace(redis, ns);
      }
    });
  }
});
