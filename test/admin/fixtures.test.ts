/**
 * The admin API on the entries every runtime really wrote: each captured fixture's retry,
 * schedule, dead and failed entries (Sidekiq 6.4.1, 7.3.10, 8.1.7, Verk 1.7.3, Exq 0.23.0,
 * Resque 3.0.0 and 2.7.0, and kiqgate's own Sidekiq 6.4.1 captures) are loaded into a test
 * namespace with the layout of the runtime that wrote them, then listed, retried, killed and
 * deleted one by one, and the bytes that move are checked against the captured ones.
 */
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Admin, type JobEntry } from '../../src/admin/index.js';
import { type AdminSetName, type Dialect, dialectOfRelease } from '../../src/wire/index.js';
import { FIXTURES_DIR, loadFixture, type Fixture } from '../support/fixtures.js';
import { dropNamespace, testRedis, uniqueNamespace } from '../support/redis.js';
import { loadState } from './load-state.js';

const redis = testRedis();
const namespaces: string[] = [];
afterAll(async () => {
  for (const ns of namespaces) await dropNamespace(redis, ns);
  await redis.quit();
});

const SET_KEYS: Record<AdminSetName, string> = { scheduled: 'schedule', retries: 'retry', dead: 'dead' };

interface Case { name: string; fixture: Fixture; layout: Dialect; sets: AdminSetName[]; failed: boolean }

/** Every fixture whose final state holds entries an admin acts on. */
function cases(): Case[] {
  const out: Case[] = [];
  for (const dir of readdirSync(FIXTURES_DIR)) {
    const m = /^([a-z]+)-(\d+\.\d+\.\d+)/.exec(dir);
    if (!m) continue;
    const layout = dialectOfRelease(m[1]!, m[2]!);
    if (!layout) continue;
    const own = layout.defaultNamespace ? `${layout.defaultNamespace}:` : '';
    for (const file of readdirSync(`${FIXTURES_DIR}/${dir}`).filter((f) => f.endsWith('.json'))) {
      const fixture = loadFixture(dir, file.slice(0, -5));
      const has = (k: string) => ((fixture.state[own + k]?.value as unknown[] | undefined)?.length ?? 0) > 0;
      const sets = layout.admin.sets.filter((s) => has(SET_KEYS[s]));
      const failed = layout.admin.failedList !== undefined && has('failed');
      if (sets.length > 0 || failed) out.push({ name: `${dir}/${file.slice(0, -5)}`, fixture, layout, sets, failed });
    }
  }
  return out;
}

const CASES = cases();

async function setup(c: Case): Promise<{ admin: Admin; ns: string }> {
  const ns = uniqueNamespace('adm');
  namespaces.push(ns);
  await loadState(redis, c.fixture, c.layout, ns);
  return { admin: new Admin({ redis, peer: c.layout.peer, namespace: ns }), ns };
}

/** `"field":<number>` replaced, to compare the rest of two payloads byte for byte. */
const strip = (s: string, ...fields: string[]) => fields.reduce((t, f) => t.replace(new RegExp(`"${f}":-?[0-9.e+]+`), `"${f}":X`), s);

describe('fixtures with entries to act on', () => {
  it('covers every runtime that keeps them', () => {
    const systems = new Set(CASES.map((c) => c.fixture.system));
    expect([...systems].sort()).toEqual(['exq', 'resque', 'sidekiq', 'verk']);
    expect(CASES.some((c) => c.sets.includes('dead'))).toBe(true);
    expect(CASES.some((c) => c.sets.includes('scheduled'))).toBe(true);
    expect(CASES.some((c) => c.failed)).toBe(true);
  });
});

describe.each(CASES.filter((c) => c.sets.length > 0))('$name', (c) => {
  it('lists every entry with its exact bytes, and reports the sizes and counters in stats', async () => {
    const { admin, ns } = await setup(c);
    const stats = await admin.stats();
    for (const name of c.sets) {
      const captured = (c.fixture.state[(c.layout.defaultNamespace ? `${c.layout.defaultNamespace}:` : '') + SET_KEYS[name]]!.value as Array<[string, number]>);
      const listed = await admin.set(name).list({}, 1000);
      expect(listed.map((e) => e.raw.toString()).sort()).toEqual(captured.map(([m]) => m).sort());
      for (const e of listed) expect(e.jid ?? e.undecodable).toBeDefined();
      expect(stats[name === 'scheduled' ? 'scheduledSize' : name === 'retries' ? 'retrySize' : 'deadSize']).toBe(captured.length);
    }
    const counter = async (k: string) => Number((await redis.get(`${ns}:stat:${k}`)) ?? 0);
    expect(stats.processed).toBe(await counter('processed'));
    expect(stats.failed).toBe(await counter('failed'));
    expect(stats.failedListSize).toBeNull();
  });

  it('retries each entry to its queue by jid: the bytes its writer\'s API pushes, the entry gone', async () => {
    const { admin, ns } = await setup(c);
    for (const name of c.sets) {
      for (const e of await admin.set(name).list({}, 1000)) {
        if (!e.jid) continue;
        const queueKey = `${ns}:queue:${e.queue ?? 'default'}`;
        const before = await redis.llen(queueKey);
        const result = await admin.set(name).act('retry', e.jid);
        expect(result).toMatchObject({ matched: 1, done: 1, gone: 0 });
        expect(await redis.zscore(`${ns}:${SET_KEYS[name]}`, e.raw)).toBeNull();
        expect(await redis.llen(queueKey)).toBe(before + 1);
        const pushed = (await redis.lindexBuffer(queueKey, 0))!.toString();
        expectRetried(e, pushed);
        expect((await admin.queues.summary(e.queue ?? 'default')).size).toBe(before + 1);
      }
    }
  });

  it('kills each non-dead entry into dead with its bytes unchanged, and deletes dead ones', async () => {
    const { admin, ns } = await setup(c);
    for (const name of c.sets) {
      for (const e of await admin.set(name).list({}, 1000)) {
        if (!e.jid) continue;
        if (name === 'dead') {
          expect(await admin.set(name).act('delete', e.jid)).toMatchObject({ matched: 1, done: 1 });
          expect(await redis.zscore(`${ns}:dead`, e.raw)).toBeNull();
          await expect(admin.set('dead').act('kill', e.jid)).rejects.toMatchObject({ code: 'unsupported' });
          continue;
        }
        const before = Date.now();
        expect(await admin.set(name).act('kill', e.jid)).toMatchObject({ matched: 1, done: 1 });
        expect(await redis.zscore(`${ns}:${SET_KEYS[name]}`, e.raw)).toBeNull();
        const score = await redis.zscore(`${ns}:dead`, e.raw);
        expect(score).not.toBeNull();
        // The layout's score format: Verk integer seconds, the others float seconds.
        if (c.layout.peer === 'verk') expect(score).toMatch(/^\d+$/);
        expect(Number(score) * 1000).toBeGreaterThan(before - 5_000);
      }
    }
  });
});

/** What the entry's writer's API pushes on a manual retry (or the poller, for a scheduled job). */
function expectRetried(e: JobEntry, pushed: string): void {
  const orig = e.raw.toString();
  const family = e.dialect!.replace(/\d+$/, '');
  if (family === 'sidekiq') {
    // Sidekiq's SortedEntry#retry: retry_count − 1 (retries and dead), enqueued_at now, every other byte kept.
    expect(strip(pushed, 'enqueued_at', 'retry_count')).toBe(strip(orig.includes('"enqueued_at"') ? orig : orig.replace(/}$/, ',"enqueued_at":0}'), 'enqueued_at', 'retry_count'));
    const doc = JSON.parse(pushed) as { retry_count?: number; enqueued_at: number };
    if (e.set !== 'scheduled' && e.retryCount !== undefined) expect(doc.retry_count).toBe(e.retryCount - 1);
    if (e.set === 'scheduled') expect(doc.retry_count).toBe(e.retryCount);
    expect(doc.enqueued_at > 1e11 ? doc.enqueued_at : doc.enqueued_at * 1000).toBeGreaterThan(Date.now() - 60_000);
  } else if (family === 'verk' && e.set === 'scheduled') {
    // Verk's mover sets a null enqueued_at to now (integer seconds).
    expect(strip(pushed, 'enqueued_at')).toBe(orig.replace('"enqueued_at":null', '"enqueued_at":X'));
  } else {
    // Verk's requeue_job_now and Exq's retry_job push the member unchanged.
    expect(pushed).toBe(orig);
  }
}

describe.each(CASES.filter((c) => c.failed))('$name (failed list)', (c) => {
  const own = `${c.layout.defaultNamespace}:`;
  const captured = () => c.fixture.state[`${own}failed`]!.value as string[];

  it('lists the entries newest first with their ids, class, queue and error; stats counts them', async () => {
    const { admin } = await setup(c);
    const listed = await admin.failed().list();
    expect(listed.map((e) => e.raw.toString())).toEqual([...captured()].reverse());
    for (const e of listed) {
      const doc = JSON.parse(e.raw.toString()) as { payload: unknown; queue: string; exception: string };
      expect(e.queue).toBe(doc.queue);
      expect(e.exception).toBe(doc.exception);
      expect(e.id).toMatch(/^\S+$/);
    }
    const stats = await admin.stats();
    expect(stats.failedListSize).toBe(captured().length);
    expect(stats.retrySize).toBeNull();
  });

  it('requeues by id as Resque::Failure.requeue: entry kept with retried_at, {"class","args"} pushed to its queue', async () => {
    const { admin, ns } = await setup(c);
    for (const e of await admin.failed().list()) {
      if (e.unreadable || !e.className || typeof (JSON.parse(e.raw.toString()) as { payload: unknown }).payload !== 'object') continue;
      const payload = (JSON.parse(e.raw.toString()) as { payload: { class: string; args?: unknown } }).payload;
      const queueKey = `${ns}:queue:${e.queue}`;
      const before = await redis.llen(queueKey);
      const result = await admin.failed().act('retry', e.id!);
      expect(result.done).toBeGreaterThanOrEqual(1);
      expect(await redis.llen(queueKey)).toBe(before + result.done);
      const pushed = JSON.parse((await redis.lindex(queueKey, -1))!) as Record<string, unknown>;
      expect(Object.keys(pushed)).toEqual(['class', 'args']);
      expect(pushed.class).toBe(payload.class);
      const kept = (await redis.lindex(`${ns}:failed`, e.index))!;
      expect(kept.replace(/,"retried_at":"[^"]*"/, '')).toBe(e.raw.toString().replace(/,"retried_at":"[^"]*"/, ''));
      expect(kept).toMatch(/"retried_at":"\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d [A-Z+0-9-]+"}$/);
      expect(await redis.sismember(`${ns}:queues`, e.queue!)).toBe(1);
    }
  });

  it('deletes by id (exact bytes), leaving the other entries in order', async () => {
    const { admin, ns } = await setup(c);
    const [first, ...rest] = await admin.failed().list();
    expect(await admin.failed().act('delete', first!.id!)).toMatchObject({ done: 1 });
    expect((await redis.lrange(`${ns}:failed`, 0, -1)).reverse()).toEqual(rest.map((e) => e.raw.toString()));
    await expect(admin.failed().act('delete', 'no-such-id')).rejects.toMatchObject({ code: 'not_found' });
  });
});

