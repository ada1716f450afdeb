/**
 * Sidekiq 6.4 (Debian's ruby-sidekiq): harness side. Workers are real `sidekiq` processes
 * loading sidekiq_worker.rb; producers are Ruby scripts using Sidekiq::Client. Sidekiq's
 * drain runs at concurrency 10 and 25 (its default and a common production setting).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { JsonChild } from '../lib/children.js';
import { QUEUE, type BenchSystem } from './types.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

let cachedVersion: string | null | undefined;
function sidekiqVersion(): string | null {
  if (cachedVersion === undefined) {
    const r = spawnSync('ruby', ['-e', 'require "sidekiq"; print "sidekiq #{Sidekiq::VERSION}, #{RUBY_DESCRIPTION}"'], { encoding: 'utf8' });
    cachedVersion = r.status === 0 ? r.stdout.trim() : null;
  }
  return cachedVersion;
}

const sidekiqBin = () => (spawnSync('sidekiq', ['--help'], { stdio: 'ignore' }).error ? null : 'sidekiq');

export const sidekiq: BenchSystem = {
  name: 'sidekiq',
  runtime: 'ruby',
  drainConcurrencies: [10, 25],
  available: async () => (sidekiqVersion() && sidekiqBin() ? null : 'not installed'),
  version: async () => sidekiqVersion() ?? 'not installed',
  spawnProducer: (url, spec) =>
    new JsonChild(`sidekiq producer (${spec.mode})`, 'ruby', [here('sidekiq_producer.rb')], {
      REDIS_URL: url,
      BENCH_QUEUE: QUEUE,
      BENCH_MODE: spec.mode,
      BENCH_N: String(spec.n),
      BENCH_BATCH: String(spec.batch ?? 1000),
      BENCH_RATE: String(spec.rate ?? 1000),
    }),
  spawnWorker: (url, spec) =>
    new JsonChild(
      `sidekiq worker (c${spec.concurrency})`,
      'sidekiq',
      ['-e', 'production', '-r', here('sidekiq_worker.rb'), '-c', String(spec.concurrency), '-q', QUEUE],
      { REDIS_URL: url, BENCH_QUEUE: QUEUE, BENCH_MODE: spec.mode },
    ),
};
