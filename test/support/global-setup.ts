/**
 * vitest global setup: the tests need a real Redis. With REDIS_URL set, or something answering
 * on 127.0.0.1:6379, that is used; otherwise a private redis-server is started on a free port
 * for the run (and stopped after), so `npm test` works on a machine with only redis-server.
 */
import { portAnswers, redisServerInstalled, startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';

let server: RedisServerHandle | undefined;

export async function setup(): Promise<void> {
  if (process.env.REDIS_URL || (await portAnswers('127.0.0.1', 6379))) return;
  if (!redisServerInstalled()) {
    throw new Error('the tests need Redis: nothing answers on 127.0.0.1:6379, REDIS_URL is not set, and redis-server is not installed (apt-get install -y redis-server)');
  }
  server = await startRedisServer();
  process.env.REDIS_URL = server.url; // inherited by the test worker processes
  process.stdout.write(`tests: no Redis on 127.0.0.1:6379; using a private redis-server at ${server.url}\n`);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
