/**
 * Usage errors of every command, from the real CLI process: one line naming the flag (or
 * variable) and what is expected, `see kiqgate <cmd> --help`, exit 2, never the whole usage
 * text or a stack; `--version` everywhere; configuration that is wrong never runs.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { runCli, type CliResult } from '../support/cli.js';
import { dropNamespace, testRedis, TEST_REDIS_URL, uniqueNamespace } from '../support/redis.js';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

let redis: Redis;
const ns = uniqueNamespace('usage');
beforeAll(() => { redis = testRedis(); });
afterAll(async () => { await dropNamespace(redis, ns); await redis.quit(); });

/** Exit 2 and exactly one stderr line, which matches `line`. */
function expectUsageError(r: CliResult, line: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(line);
  expect(r.stderr).not.toMatch(/Usage:|\n\s+at /);
}

describe('kiqgate usage errors and --version', () => {
  it.each([
    [['--version']], [['-v']], [['enqueue', '--version']], [['worker', '--version']], [['demo', '--version']], [['compat', '--version']],
  ])('%j prints the package.json version and exits 0', async (args) => {
    const r = await runCli(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`kiqgate ${VERSION}\n`);
  });

  it.each([
    [['enqueue', '--class', 'X', '--args', '[]', '--bogus'], /^kiqgate enqueue: unknown option '--bogus'; see kiqgate enqueue --help$/],
    [['worker', '--require', 'w.js', '--bogus'], /^kiqgate worker: unknown option '--bogus'; see kiqgate worker --help$/],
    [['demo', '--bogus'], /^kiqgate demo: unknown option '--bogus'; see kiqgate demo --help$/],
    [['compat', 'extra'], /^kiqgate compat: unexpected argument 'extra'; see kiqgate compat --help$/],
    [['enqueue', '--args', '[]'], /^kiqgate enqueue: --class is required \(the job class name\); see kiqgate enqueue --help$/],
    [['enqueue', '--class', 'X', '--args'], /^kiqgate enqueue: option '--args <value>' argument missing; see kiqgate enqueue --help$/],
    [['worker'], /^kiqgate worker: --require is needed: the module that exports the handlers; see kiqgate worker --help$/],
    [['frob'], /^kiqgate: unknown command 'frob' \(commands: .*worker.*\); see kiqgate --help$/],
  ])('%j: one line, exit 2 (in every command)', async (args, line) => {
    expectUsageError(await runCli(args), line);
  });

  it.each([
    [['--concurrency', '-5'], /^kiqgate worker: invalid --concurrency \(command line\): expected a concurrency from 1 to 10000 .*got "-5"$/],
    [['-c', '-5'], /^kiqgate worker: invalid --concurrency \(command line\): expected a concurrency from 1 to 10000 .*got "-5"$/],
    [['--prefetch', '-1'], /^kiqgate worker: invalid --prefetch \(command line\): expected an integer from 0 to 10000 \(jobs per queue fetched before a slot is free to start them\), got "-1"$/],
    [['--prefetch', 'all'], /^kiqgate worker: invalid --prefetch \(command line\): expected an integer from 0 to 10000 .*got "all"$/],
    [['--timeout', '-1'], /^kiqgate worker: invalid --timeout \(command line\): expected seconds ≥ 0, got "-1"$/],
    [['--timeout', '3000000'], /^kiqgate worker: invalid --timeout \(command line\): expected at most 2147481 seconds \(about 24\.8 days, the longest timer Node runs\), got "3000000"$/],
    [['--queue', '-x'], /^kiqgate worker: --queue needs a value, got "-x", which looks like an option .*; see kiqgate worker --help$/],
    [['--concurrency', '1000000000'], /^kiqgate worker: invalid --concurrency \(command line\): expected a concurrency from 1 to 10000/],
    [['--queue', 'default:1000000000'], /^kiqgate worker: invalid queues\.default \(command line\): expected a concurrency from 1 to 10000/],
    [['--queue', 'critical,2'], /^kiqgate worker: invalid queues \(command line\): got "critical,2", Sidekiq's name,weight syntax; kiqgate's is name:N, where N is that queue's concurrency \(not a weight\), e\.g\. critical:2$/],
    [['--queue', 'a b'], /^kiqgate worker: invalid queues \(command line\): a queue name may not hold whitespace.*"a b"/],
  ])('worker %j: names the option and what is expected, exit 2', async (args, line) => {
    expectUsageError(await runCli(['worker', '--require', 'never-loaded.js', '--redis', TEST_REDIS_URL, ...args]), line);
  });

  it('an unknown KIQGATE_* variable stops both enqueue and worker, naming it and the fix', async () => {
    const env = { KIQGATE_CONCURRENCY: '5' };
    const line = /^kiqgate (enqueue|worker): invalid KIQGATE_CONCURRENCY \(environment\): unknown variable; concurrency is per queue: set KIQGATE_QUEUES=default:5 .*\(known: .*KIQGATE_TLS_CA.*\); unset it$/;
    expectUsageError(await runCli(['enqueue', '--redis', TEST_REDIS_URL, '--namespace', ns, '--class', 'X', '--args', '[]'], env), line);
    expectUsageError(await runCli(['worker', '--redis', TEST_REDIS_URL, '--require', 'never-loaded.js'], env), line);
    const typo = await runCli(['enqueue', '--redis', TEST_REDIS_URL, '--namespace', ns, '--class', 'X', '--args', '[]'], { KIQGATE_TLS_CA_FILE: '/ca.pem' });
    expectUsageError(typo, /invalid KIQGATE_TLS_CA_FILE \(environment\): unknown variable; did you mean KIQGATE_TLS_CA\?/);
    expect(await redis.keys(`${ns}:*`)).toEqual([]);
  });

  it('enqueue takes -q as worker does, and refuses a queue name no worker can consume, writing nothing', async () => {
    const ok = await runCli(['enqueue', '--redis', TEST_REDIS_URL, '--namespace', ns, '-q', 'mail', '--class', 'X', '--args', '[1]']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(await redis.llen(`${ns}:queue:mail`)).toBe(1);
    for (const [queue, what] of [['low:priority', "':'"], ['critical,2', "','"], ['a b', 'whitespace'], ['a\nb', 'a control character']]) {
      const r = await runCli(['enqueue', '--redis', TEST_REDIS_URL, '--namespace', ns, '--queue', queue!, '--class', 'X', '--args', '[]']);
      expectUsageError(r, /^kiqgate enqueue: queue must be a name a kiqgate worker can consume: a queue name may not hold whitespace, control characters, ',' or ':'/);
      expect(r.stderr).toContain(`(got ${JSON.stringify(queue)}, which holds ${what})`);
    }
    expect((await redis.keys(`${ns}:*`)).sort()).toEqual([`${ns}:queue:mail`, `${ns}:queues`]);
  });
});
