/**
 * Configuration layers (API < file < environment < flags) and one clear error per bad value.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/engine/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kiqgate-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('worker configuration', () => {
  it('has Sidekiq/Verk defaults', () => {
    const c = resolveConfig({});
    expect(c).toMatchObject({ nodeId: '1', maxRetries: 25, deadMaxJobs: 10_000, deadTimeoutSeconds: 15_552_000, peer: 'sidekiq7', pollIntervalMs: 5000, heartbeatMs: 30_000, processing: true });
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
    ];
    for (const [layers, msg] of bad) {
      expect(() => resolveConfig(layers)).toThrow(ConfigError);
      expect(() => resolveConfig(layers)).toThrow(msg);
    }
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"maxRetries": ');
    expect(() => resolveConfig({ file })).toThrow(/invalid config file/);
  });
});
