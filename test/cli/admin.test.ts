/**
 * The admin commands as a user runs them: tables and --json on stdout, one-line errors naming
 * the flag with exit 2, exit 1 when nothing has that id, and no progress bar when stderr is not
 * a terminal (scripts see clean output).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { dropNamespace, TEST_REDIS_URL, testRedis, uniqueNamespace } from '../support/redis.js';

const redis = testRedis();
const ns = uniqueNamespace('admcli');
afterAll(async () => {
  await dropNamespace(redis, ns);
  await redis.quit();
});

const kq = (...args: string[]) => runCli([...args, '--redis', TEST_REDIS_URL, '--namespace', ns]);
const JOB = (jid: string, q = 'default') => `{"retry":true,"queue":"${q}","args":[1],"class":"Mailer","jid":"${jid}","created_at":1795872000.5,"enqueued_at":1795872000.75,"error_message":"boom\\nline 2","error_class":"RuntimeError","failed_at":1795872001.25,"retry_count":3}`;

describe('usage errors: one line naming the flag, exit 2', () => {
  it.each([
    [['retries', 'frob'], /unknown action "frob" \(actions: list, retry, delete, kill\)/],
    [['retries', 'retry'], /retry needs a JID, or --all/],
    [['retries', 'retry', 'abc', '--all'], /give a JID or --all, not both/],
    [['retries', 'retry', 'abc', '--queue', 'q'], /--queue and --class choose entries for --all and list/],
    [['retries', 'list', '--limit', '0'], /--limit must be a positive integer, got "0"/],
    [['retries', 'list', '--all'], /--all applies to retry, delete and kill/],
    [['dead', 'kill', 'abc'], /kill moves an entry to dead; it is in dead already/],
    [['failed', 'kill', 'abc', '--peer', 'resque'], /a failure list has no dead set/],
    [['retries', 'list', '--peer', 'resque'], /resque keeps no retries set; its failures are in the \S+:failed list \(use failed\)/],
    [['failed', 'list'], /sidekiq7 keeps no failure list/],
    [['stats', '--peer', 'sidekiq9'], /--peer must be one of sidekiq6, sidekiq7, sidekiq8, verk, exq, resque; got "sidekiq9"/],
    [['stats', '--bogus'], /unknown option '--bogus'/],
    [['processes', 'stop', 'x', '--peer', 'exq'], /no stop signal through Redis/],
    [['processes', 'quiet', 'x', '--peer', 'resque'], /Resque workers take signals from the OS/],
  ])('kiqgate %j', async (args, message) => {
    const r = await kq(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});

describe('output', () => {
  it('lists a table for people and JSON with the exact bytes for scripts; acts by jid; exit 1 for an unknown jid', async () => {
    await redis.zadd(`${ns}:retry`, '1795872030.5', JOB('aaaaaaaaaaaaaaaaaaaaaaaa'), '1795872040.5', JOB('bbbbbbbbbbbbbbbbbbbbbbbb', 'mail'));
    const table = await kq('retries');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^at\s+jid\s+class\s+queue\s+retry_count\s+error$/);
    expect(table.stdout).toContain('bbbbbbbbbbbbbbbbbbbbbbbb  Mailer  mail');
    expect(table.stdout).toContain('RuntimeError: boom\\nline 2'); // one entry, one line
    const json = JSON.parse((await kq('retries', 'list', '--queue', 'mail', '--json')).stdout) as Array<{ jid: string; payload: string }>;
    expect(json.map((e) => e.jid)).toEqual(['bbbbbbbbbbbbbbbbbbbbbbbb']);
    expect(json[0]!.payload).toBe(JOB('bbbbbbbbbbbbbbbbbbbbbbbb', 'mail'));

    const retried = await kq('retries', 'retry', 'aaaaaaaaaaaaaaaaaaaaaaaa', '--json');
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({ set: 'retries', action: 'retry', matched: 1, done: 1 });
    const again = await kq('retries', 'retry', 'aaaaaaaaaaaaaaaaaaaaaaaa');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^kiqgate retries: no entry with jid "aaaaaaaaaaaaaaaaaaaaaaaa" in retries/);

    const stats = JSON.parse((await kq('stats', '--json')).stdout) as Record<string, number>;
    expect(stats).toMatchObject({ enqueued: 1, retrySize: 1, deadSize: 0, scheduledSize: 0 });
    const queues = JSON.parse((await kq('queues', '--json')).stdout) as Array<{ name: string; size: number; latency: number }>;
    expect(queues).toEqual([expect.objectContaining({ name: 'default', size: 1 })]);
    expect(queues[0]!.latency).toBeGreaterThanOrEqual(0);
  });

  it('--all reports its counts and draws no progress bar when stderr is not a terminal', async () => {
    const r = await kq('retries', 'kill', '--all');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^killed 1 of 1 matched in retries \(0 already gone, 0 skipped\) in \d+\.\d\d s\n$/);
    expect(await redis.zcard(`${ns}:dead`)).toBe(1);
  });
});
