/**
 * Bulk actions of the admin API: filters choose exactly what moves, batches cover a set larger
 * than one page, and two operators racing over the same set move each entry once (every move
 * is a compare-and-move of the exact bytes). A kiqgate worker obeys `quiet` sent through the API.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Admin, type BulkProgress } from '../../src/admin/index.js';
import { until } from '../support/wait.js';
import { dropNamespace, testRedis, uniqueNamespace } from '../support/redis.js';
import { testWorker } from '../engine/helpers.js';

const redis = testRedis();
const namespaces: string[] = [];
afterAll(async () => {
  for (const ns of namespaces) await dropNamespace(redis, ns);
  await redis.quit();
});

function fresh(peer: 'sidekiq7' | 'sidekiq8' = 'sidekiq7'): { admin: Admin; ns: string } {
  const ns = uniqueNamespace('admb');
  namespaces.push(ns);
  return { admin: new Admin({ redis, peer, namespace: ns }), ns };
}

/** `n` Sidekiq 7 dead entries, class and queue by index (`cls`, `q`), as a worker writes them. */
async function fillDead(ns: string, n: number, cls: (i: number) => string, q: (i: number) => string): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    const pipe = redis.pipeline();
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      const job = `{"retry":true,"queue":"${q(j)}","args":[${j}],"class":"${cls(j)}","jid":"${j.toString(16).padStart(24, '0')}","created_at":1795872000.5,"enqueued_at":1795872000.75,"error_message":"boom","error_class":"RuntimeError","failed_at":1795872001.25,"retry_count":25}`;
      pipe.zadd(`${ns}:dead`, String(1795872001 + j), job);
    }
    await pipe.exec();
  }
}

describe('bulk actions', () => {
  it('moves exactly the entries passing --queue and --class, over several batches, reporting progress', async () => {
    const { admin, ns } = fresh();
    await fillDead(ns, 2500, (i) => (i % 2 ? 'A' : 'B'), (i) => (i % 5 === 0 ? 'mail' : 'default'));
    const seen: BulkProgress[] = [];
    const r = await admin.set('dead').actAll('retry', { queue: 'mail', className: 'B' }, (p) => seen.push(p));
    expect(r).toMatchObject({ matched: 250, done: 250, gone: 0, skipped: 0 }); // i % 10 === 0
    expect(await redis.llen(`${ns}:queue:mail`)).toBe(250);
    expect(await redis.zcard(`${ns}:dead`)).toBe(2250);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toEqual({ done: 2500, total: 2500 });
    const pushed = JSON.parse((await redis.lindex(`${ns}:queue:mail`, 0))!) as { class: string; retry_count: number };
    expect(pushed).toMatchObject({ class: 'B', retry_count: 24 });
    expect(await redis.sismember(`${ns}:queues`, 'mail')).toBe(1);
  });

  it('moves each entry once when two operators retry the same set at the same time', async () => {
    const { admin, ns } = fresh();
    await fillDead(ns, 3000, () => 'A', () => 'default');
    const other = new Admin({ redis: redis.duplicate(), peer: 'sidekiq7', namespace: ns });
    const [a, b] = await Promise.all([admin.set('dead').actAll('retry'), other.set('dead').actAll('retry')]);
    await other.close();
    expect(a.done + b.done).toBe(3000);
    expect(await redis.llen(`${ns}:queue:default`)).toBe(3000);
    expect(new Set(await redis.lrange(`${ns}:queue:default`, 0, -1)).size).toBe(3000);
    expect(await redis.zcard(`${ns}:dead`)).toBe(0);
  });

  it('deletes and kills with a filter, leaving the rest', async () => {
    const { admin, ns } = fresh();
    await fillDead(ns, 40, (i) => (i < 10 ? 'Gone' : 'Kept'), () => 'default');
    expect(await admin.set('dead').actAll('delete', { className: 'Gone' })).toMatchObject({ matched: 10, done: 10 });
    expect(await redis.zcard(`${ns}:dead`)).toBe(30);
    await redis.zadd(`${ns}:retry`, '1795872001', '{"retry":true,"queue":"q","args":[],"class":"K","jid":"aaaaaaaaaaaaaaaaaaaaaaaa","created_at":1795872000.5,"enqueued_at":1795872000.75,"retry_count":0}');
    expect(await admin.set('retries').actAll('kill', { queue: 'q' })).toMatchObject({ done: 1 });
    expect(await redis.zcard(`${ns}:dead`)).toBe(31);
  });

  it('sends quiet to a kiqgate worker, which stops fetching and says so in its heartbeat', async () => {
    const { admin, ns } = fresh();
    const worker = testWorker({ namespace: ns, peer: 'sidekiq6', sidekiqHeartbeat: true, queues: { default: 1 } });
    await worker.start();
    try {
      const [proc] = await until(async () => { const l = await admin.processes.list(); return l.length ? l : undefined; }, 'the worker in processes');
      expect(proc!.id).toBe(worker.identity);
      expect(proc!.quiet).toBe(false);
      await admin.processes.quiet(worker.identity);
      expect(await redis.lrange(`${ns}:${worker.identity}-signals`, 0, -1)).toEqual(['TSTP']);
      await until(async () => (await admin.processes.list())[0]?.quiet || undefined, 'quiet=true in the worker heartbeat (Sidekiq 6: 5 s beats)', 30_000);
      await expect(admin.processes.stop('nosuch:1:abc')).rejects.toMatchObject({ code: 'not_found' });
    } finally {
      await worker.stop();
    }
  });
});
