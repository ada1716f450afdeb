/**
 * Configuration layers (API < file < environment < flags) and one clear error per bad value.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseQueueSpec, resolveConfig } from '../../src/engine/index.js';
import { envRedisUrl, KNOWN_ENV, MAX_SHUTDOWN_TIMEOUT_MS, MAX_TIMER_MS } from '../../src/engine/config.js';

const dir = mkdtempSync(join(tmpdir(), 'kiqgate-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('worker configuration', () => {
  it('has Sidekiq/Verk defaults (but not Verk\'s node id "1", issue 16)', () => {
    const c = resolveConfig({});
    expect(c).toMatchObject({ nodeId: 'kiqgate_1', maxRetries: 25, deadMaxJobs: undefined, deadTimeoutSeconds: undefined, peer: 'sidekiq7', pollIntervalMs: 5000, heartbeatMs: 30_000, processing: true });
    expect([...c.queues]).toEqual([['default', 10]]);
    expect(resolveConfig({ api: { generateNodeId: true } }).nodeId).toMatch(/^\d{2,20}$/);
  });

  it('merges API < file < environment < flags', () => {
    const file = join(dir, 'kiqgate.json');
    writeFileSync(file, JSON.stringify({ maxRetries: 5, queues: { a: 2 }, namespace: 'file', jobLogLevels: { done: 'warn' } }));
    const c = resolveConfig({
      api: { maxRetries: 1, namespace: 'api', peer: 'sidekiq6', pollIntervalMs: 100 },
      file,
      env: { KIQGATE_MAX_RETRIES: '7', KIQGATE_QUEUES: 'x:3,y', REDIS_URL: 'redis://env:6379', KIQGATE_FAIL_LOG_LEVEL: 'error' },
      cli: { maxRetries: 9 },
    });
    expect(c.maxRetries).toBe(9);
    expect(c.namespace).toBe('file');
    expect(c.peer).toBe('sidekiq6');
    expect(c.pollIntervalMs).toBe(100);
    expect([...c.queues]).toEqual([['x', 3], ['y', 10]]);
    expect(c.redis).toBe('redis://env:6379');
    expect(c.jobLogLevels).toEqual({ start: 'debug', done: 'warn', fail: 'error' });
  });

  it('names the option and the layer of every invalid value', () => {
    const bad: Array<[Parameters<typeof resolveConfig>[0], RegExp]> = [
      [{ api: { maxRetries: -1 } }, /invalid maxRetries \(API\)/],
      [{ api: { queues: { default: 0 } } }, /invalid queues\.default \(API\)/],
      [{ api: { peer: 'sidekiq5' as never } }, /invalid peer \(API\): expected one of sidekiq6, sidekiq7, sidekiq8/],
      [{ env: { KIQGATE_PROCESSING: 'maybe' } }, /invalid processing \(environment\)/],
      [{ env: { KIQGATE_QUEUES: 'a b:1' } }, /invalid queues \(environment\)/],
      [{ cli: { pollIntervalMs: 1.5 } }, /invalid pollIntervalMs \(command line\)/],
      [{ api: { nodeId: 'n', generateNodeId: true } }, /nodeId .* cannot both be set/],
      [{ api: { bogus: 1 } as never }, /invalid bogus \(API\): unknown option/],
      [{ api: { queues: { default: 10_001 } } }, /invalid queues\.default \(API\): expected a concurrency from 1 to 10000/],
      [{ env: { KIQGATE_QUEUES: 'default:1000000000' } }, /invalid queues\.default \(environment\): expected a concurrency from 1 to 10000/],
      [{ cli: { queues: { 'low:priority': 1 } } }, /invalid queues \(command line\): a queue name may not hold .*"low:priority"/],
      [{ api: { queues: { 'a\nb': 1 } } }, /invalid queues \(API\): .*control character/],
      [{ env: { KIQGATE_CONCURRENCY: '5' } }, /invalid KIQGATE_CONCURRENCY \(environment\): unknown variable; concurrency is per queue: set KIQGATE_QUEUES=default:5.*known: .*KIQGATE_QUEUES/],
      [{ env: { KIQGATE_QUEUE: 'a' } }, /invalid KIQGATE_QUEUE \(environment\): unknown variable; did you mean KIQGATE_QUEUES\?/],
      [{ env: { KIQGATE_TLS_CA_FILE: '/x' } }, /did you mean KIQGATE_TLS_CA\?/],
    ];
    for (const [layers, msg] of bad) {
      expect(() => resolveConfig(layers)).toThrow(ConfigError);
      expect(() => resolveConfig(layers)).toThrow(msg);
    }
    const big = join(dir, 'big.json');
    writeFileSync(big, JSON.stringify({ queues: { default: 1e9 } }));
    expect(() => resolveConfig({ file: big })).toThrow(/invalid queues\.default \(config file .*big\.json\): expected a concurrency from 1 to 10000/);
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"maxRetries": ');
    expect(() => resolveConfig({ file })).toThrow(/invalid config file/);
  });

  it('refuses, in every layer, a timer option longer than Node runs a timer (it would fire after 1 ms)', () => {
    const file = join(dir, 'timers.json');
    writeFileSync(file, JSON.stringify({ heartbeatMs: 3_000_000_000 }));
    const bad: Array<[Parameters<typeof resolveConfig>[0], RegExp]> = [
      [{ api: { shutdownTimeoutMs: 3_000_000_000 } }, /^invalid shutdownTimeoutMs \(API\): expected at most 2147481647 ms \(about 24\.8 days; stop\(\) adds 2 s for Redis to it\), the longest timer Node runs, got 3000000000$/],
      [{ api: { shutdownTimeoutMs: MAX_TIMER_MS } }, /invalid shutdownTimeoutMs \(API\): expected at most 2147481647 ms/],
      [{ env: { KIQGATE_SHUTDOWN_TIMEOUT_MS: '3000000000' } }, /invalid shutdownTimeoutMs \(environment\): expected at most 2147481647 ms/],
      [{ env: { KIQGATE_CONNECT_TIMEOUT_MS: '2147483648' } }, /^invalid connectTimeoutMs \(environment\): expected at most 2147483647 ms \(about 24\.8 days\), the longest timer Node runs, got 2147483648$/],
      [{ env: { KIQGATE_POLL_INTERVAL_MS: '2000000000' } }, /invalid pollIntervalMs \(environment\): expected at most 1431655764 ms \(about 16\.5 days; the scheduler waits up to 1\.5 times it\)/],
      [{ env: { KIQGATE_HEARTBEAT_MS: '2147483648' } }, /invalid heartbeatMs \(environment\): expected at most 2147483647 ms/],
      [{ file }, /invalid heartbeatMs \(config file .*timers\.json\): expected at most 2147483647 ms/],
      [{ api: { blockTimeoutSeconds: 2_147_484 } }, /invalid blockTimeoutSeconds \(API\): expected at most 2147483 s \(about 24\.8 days\)/],
      [{ cli: { pollIntervalMs: 3_000_000_000 } }, /invalid pollIntervalMs \(command line\): expected at most 1431655764 ms/],
    ];
    for (const [layers, msg] of bad) {
      expect(() => resolveConfig(layers)).toThrow(ConfigError);
      expect(() => resolveConfig(layers)).toThrow(msg);
    }
    // The limits themselves are accepted, and a trim age (not a timer) is not capped.
    const c = resolveConfig({ api: {
      shutdownTimeoutMs: MAX_SHUTDOWN_TIMEOUT_MS, connectTimeoutMs: MAX_TIMER_MS, heartbeatMs: MAX_TIMER_MS,
      pollIntervalMs: 1_431_655_764, blockTimeoutSeconds: 2_147_483, deadTimeoutSeconds: 10_000_000_000,
    } });
    expect(c).toMatchObject({ shutdownTimeoutMs: 2_147_481_647, pollIntervalMs: 1_431_655_764, deadTimeoutSeconds: 10_000_000_000 });
    // Every timer this limit allows, jitter and grace included, fits in a Node timer.
    expect(c.pollIntervalMs * 1.5).toBeLessThanOrEqual(MAX_TIMER_MS);
    expect(c.shutdownTimeoutMs + 2_000).toBeLessThanOrEqual(MAX_TIMER_MS);
  });

  it('takes the Redis URL from KIQGATE_REDIS_URL over REDIS_URL, the rule every command shares (envRedisUrl)', () => {
    const both = { REDIS_URL: 'redis://plain:6379', KIQGATE_REDIS_URL: 'redis://own:6379' };
    expect(resolveConfig({ env: both }).redis).toBe('redis://own:6379');
    expect(envRedisUrl(both)).toBe('redis://own:6379');
    expect(envRedisUrl({ REDIS_URL: 'redis://plain:6379' })).toBe('redis://plain:6379');
    expect(envRedisUrl({ REDIS_URL: '' })).toBeUndefined();
    expect(resolveConfig({ env: both, cli: { redis: 'redis://flag:6379' } }).redis).toBe('redis://flag:6379');
    const empty = { REDIS_URL: 'redis://plain:6379', KIQGATE_REDIS_URL: '' };
    expect(() => resolveConfig({ env: empty })).toThrow(/^invalid KIQGATE_REDIS_URL \(environment\): expected a redis:\/\/ or rediss:\/\/ URL, got ""/);
    expect(() => envRedisUrl(empty)).toThrow(ConfigError);
  });

  it('prefetch: 0 by default (issue 16), an integer from 0 to 10000 in every layer', () => {
    expect(resolveConfig({}).prefetch).toBe(0);
    expect(resolveConfig({ api: { prefetch: 5 }, env: { KIQGATE_PREFETCH: '7' } }).prefetch).toBe(7);
    expect(resolveConfig({ env: { KIQGATE_PREFETCH: '7' }, cli: { prefetch: 0 } }).prefetch).toBe(0);
    const bad: Array<[Parameters<typeof resolveConfig>[0], RegExp]> = [
      [{ api: { prefetch: -1 } }, /^invalid prefetch \(API\): expected an integer from 0 to 10000 \(jobs per queue fetched before a slot is free to start them\), got -1$/],
      [{ env: { KIQGATE_PREFETCH: 'lots' } }, /^invalid prefetch \(environment\): expected an integer from 0 to 10000 .*got "lots"$/],
      [{ cli: { prefetch: 10_001 } }, /^invalid prefetch \(command line\): expected an integer from 0 to 10000/],
      [{ api: { prefetch: 1.5 } }, /^invalid prefetch \(API\)/],
    ];
    for (const [layers, msg] of bad) expect(() => resolveConfig(layers)).toThrow(msg);
  });

  it("rejects Sidekiq's name,weight queue syntax, saying kiqgate's name:N is a concurrency", () => {
    expect(() => parseQueueSpec('critical,2', 'command line')).toThrow(
      /invalid queues \(command line\): got "critical,2", Sidekiq's name,weight syntax; kiqgate's is name:N, where N is that queue's concurrency \(not a weight\), e\.g\. critical:2/);
    expect(parseQueueSpec('critical:2', 'command line')).toEqual(['critical', 2]);
  });

  it('knows every KIQGATE_* variable the code reads, and accepts them all', () => {
    for (const v of ['KIQGATE_CONFIG', 'KIQGATE_START_LOG_LEVEL', 'KIQGATE_DONE_LOG_LEVEL', 'KIQGATE_FAIL_LOG_LEVEL', 'KIQGATE_TLS_CA', 'KIQGATE_TLS_CERT', 'KIQGATE_TLS_KEY', 'KIQGATE_QUEUES', 'KIQGATE_CONNECT_TIMEOUT_MS']) {
      expect(KNOWN_ENV.has(v)).toBe(true);
    }
    const c = resolveConfig({ env: { KIQGATE_TLS_CA: '', KIQGATE_START_LOG_LEVEL: 'info', KIQGATE_QUEUES: 'a:2', OTHER_VAR: 'x' } });
    expect(c.jobLogLevels.start).toBe('info');
    expect([...c.queues]).toEqual([['a', 2]]);
  });
});
