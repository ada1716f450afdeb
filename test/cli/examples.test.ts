/**
 * The README's workers modules, run as a newcomer runs them: `kiqgate worker --require
 * examples/workers.mjs` (and the CommonJS twin) against jobs enqueued as Sidekiq would, with
 * the per-job `done` line at info, the hooks run, and a clean exit on SIGTERM.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { KeyLayout } from '../../src/wire/index.js';
import { killStrays, logLines, startCli } from '../support/cli.js';
import { dropNamespace, TEST_REDIS_URL, testRedis, uniqueNamespace } from '../support/redis.js';
import { until } from '../support/wait.js';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');
const redis = testRedis();
afterEach(killStrays);
afterAll(async () => { await redis.quit(); });

describe('examples/workers.*', () => {
  for (const file of ['workers.mjs', 'workers.cjs']) {
    it(`${file}: runs HardJob with exact args, sends a failing FlakyJob to retry on its own schedule, logs one done line per job, exits 0 on SIGTERM`, async () => {
      const ns = uniqueNamespace('ex');
      const k = new KeyLayout(ns);
      const client = new Client({ redis: TEST_REDIS_URL, namespace: ns, peer: 'sidekiq7' });
      try {
        const hard = await client.enqueue({ class: 'HardJob', args: [2n ** 62n, 'héllo 😀'] });
        const even = await client.enqueue({ class: 'FlakyJob', args: [2] });
        const odd = await client.enqueue({ class: 'FlakyJob', args: [3] });
        const w = startCli(['worker', '--redis', TEST_REDIS_URL, '--require', join(EXAMPLES, file), '--namespace', ns, '--generate-node-id']);
        const done = () => logLines(w.output()).filter((l) => l.msg === 'done').map((l) => l.jid);
        await until(() => (done().length === 2 ? true : undefined), `two done lines (stdout: ${w.output().slice(-300)})`, 30_000);
        await until(async () => ((await redis.zcard(k.retry)) === 1 ? true : undefined), 'the odd FlakyJob in retry');
        expect(done().sort()).toEqual([hard, even].sort());
        const work = logLines(w.output()).find((l) => l.msg === 'hard work');
        expect(work).toMatchObject({ class: 'HardJob', jid: hard, args: ['4611686018427387904', 'héllo 😀'] });
        expect(typeof work?.uptimeMs).toBe('number'); // the startup hook ran before the job
        const [entry, score] = await redis.zrange(k.retry, 0, -1, 'WITHSCORES');
        const retry = JSON.parse(entry!) as { jid: string; error_message: string; failed_at: number };
        expect(retry).toMatchObject({ jid: odd, error_message: 'odd input 3' });
        expect(Number(score) - retry.failed_at).toBeCloseTo(10, 0); // the class's retryAt: 10 s after the first failure
        w.kill('SIGTERM');
        const { code, out } = await w.exit();
        expect(code).toBe(0);
        expect(logLines(out).at(-1)?.msg).toBe('worker stopped');
      } finally {
        await client.close();
        await dropNamespace(redis, ns);
      }
    });
  }
});
