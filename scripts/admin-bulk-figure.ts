/**
 * Measures `kiqgate dead retry --all` on N Sidekiq 7 dead entries (default 100,000) in a
 * throwaway namespace of the Redis at REDIS_URL: `npx tsx scripts/admin-bulk-figure.ts [N]`.
 * Prints the wall time of the command and checks every job reached its queue once.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { deleteKeys } from '../src/support/connection.js';

const n = Number(process.argv[2] ?? 100_000);
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ns = `bulk-${randomBytes(4).toString('hex')}`;
const redis = new Redis(url);
try {
  for (let i = 0; i < n; i += 1000) {
    const pipe = redis.pipeline();
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      pipe.zadd(`${ns}:dead`, String(1795872001 + j / 1000), `{"retry":true,"queue":"default","args":[${j},"x"],"class":"Bulk","jid":"${j.toString(16).padStart(24, '0')}","created_at":1795872000.5,"enqueued_at":1795872000.75,"error_message":"boom","error_class":"RuntimeError","failed_at":1795872001.25,"retry_count":25}`);
    }
    await pipe.exec();
  }
  const started = performance.now();
  const r = spawnSync(process.execPath, ['bin/kiqgate.js', 'dead', 'retry', '--all', '--json', '--redis', url, '--namespace', ns], { encoding: 'utf8' });
  const secs = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(r.stderr);
  const queued = await redis.llen(`${ns}:queue:default`);
  console.log(JSON.stringify({ entries: n, wallSeconds: Number(secs.toFixed(2)), command: JSON.parse(r.stdout), queued, deadLeft: await redis.zcard(`${ns}:dead`) }));
} finally {
  await deleteKeys(redis, `${ns}:*`);
  redis.disconnect();
}
