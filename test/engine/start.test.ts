/**
 * Worker.start() against a Redis that is not there or refuses the login: a clear error naming
 * the (redacted) address, no hang, and stop() afterwards returns.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Worker } from '../../src/engine/index.js';
import { freePort, startRedisServer } from '../../src/support/redis-server.js';

const silent = pino({ level: 'silent' });

describe('Worker.start', () => {
  it('fails after connectTimeoutMs when nothing answers, naming the address without the password', async () => {
    const port = await freePort();
    const w = new Worker({ redis: `redis://app:pw-do-not-print@127.0.0.1:${port}`, connectTimeoutMs: 1500, logger: silent, handlers: {} });
    const err = await w.start().then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toContain(`Redis at redis://app:***@127.0.0.1:${port} did not answer within 1500 ms`);
    expect(err?.message).not.toContain('pw-do-not-print');
    await w.stop(); // returns: nothing was started
  });

  it('fails at once when the login is refused', async () => {
    const server = await startRedisServer({ args: ['--requirepass', 'right-password'] });
    try {
      const w = new Worker({ redis: `redis://:wrong-password@127.0.0.1:${server.port}`, connectTimeoutMs: 0, logger: silent, handlers: {} });
      const err = await w.start().then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message).toMatch(/refused the login: .*WRONGPASS/);
      expect(err?.message).not.toContain('wrong-password');
      await w.stop();
    } finally {
      await server.stop();
    }
  });

  it('refuses a DB the server does not have, instead of running in DB 0', async () => {
    const server = await startRedisServer({ args: ['--databases', '4'] });
    try {
      const w = new Worker({ redis: `redis://127.0.0.1:${server.port}/9`, connectTimeoutMs: 0, logger: silent, handlers: { Job: () => {} } });
      const err = await w.start().then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message).toMatch(/cannot use Redis DB 9 at .*: ERR DB index is out of range \(the server has 4 databases, 0-3\)/);
      await w.stop();
    } finally {
      await server.stop();
    }
  });
});
