/**
 * The live cross-runtime matrix of `kiqgate compat --live-sidekiq`: a real Sidekiq 6.4.1 (Ruby,
 * Debian's ruby-sidekiq: its client, its `sidekiq/api` and a `sidekiq` server process) and
 * kiqgate (Client and Worker, peer sidekiq6) on one private redis-server that this module starts
 * and stops, never the user's Redis.
 *
 * Each cell is one direction of one interaction, checked on real Redis state:
 *
 *   ruby→kiqgate   Ruby writes, kiqgate reads or runs (enqueue now/scheduled/bulk; a retry entry
 *                  written by a Sidekiq server is promoted and run by kiqgate)
 *   kiqgate→ruby   kiqgate writes, Ruby reads or runs (enqueue now/scheduled/bulk; kiqgate's
 *                  retry and dead entries read, retried and killed by RetrySet/DeadSet; the
 *                  kiqgate process and its counts in ProcessSet, WorkSet and Stats)
 *
 * A cell fails with what differed; the matrix goes on with the next cell.
 */
import { isDeepStrictEqual } from 'node:util';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Client } from '../../client/index.js';
import { Worker, type JobContext } from '../../engine/index.js';
import { JsonNumber, type NativeJson } from '../../wire/index.js';
import { startRedisServer, redisServerInstalled, type RedisServerHandle } from '../../support/redis-server.js';
import {
  ATTEMPTS_KEY, INSTALL_HINT, readReceived, runRubyApi, runRubyProducer, sidekiqVersion, startSidekiq, waitFor,
  type SidekiqProcess,
} from './driver.js';

export type LiveDirection = 'ruby→kiqgate' | 'kiqgate→ruby';
export const LIVE_DIRECTIONS: readonly LiveDirection[] = ['ruby→kiqgate', 'kiqgate→ruby'];
/** The rows of the peer × direction matrix, in report order. */
export const LIVE_ROWS = ['run now', 'run scheduled', 'run bulk', 'retry set', 'dead set', 'process set', 'stats'] as const;
export type LiveRow = (typeof LIVE_ROWS)[number];

export interface LiveCell {
  /** e.g. `sidekiq-6.4.1`. */
  peer: string;
  direction: LiveDirection;
  row: LiveRow;
  ok: boolean;
  /** What was checked (PASS) or what differed (FAIL). */
  detail: string;
}

export interface LiveReport {
  peer: string;
  redis: string;
  cells: LiveCell[];
}

/** Ruby or Sidekiq (or redis-server) is missing: the matrix cannot run. */
export class LiveUnavailableError extends Error {}

export interface LiveOptions {
  /** Called after each cell (for streaming output). */
  onCell?: (cell: LiveCell) => void;
  /** Progress lines (e.g. the private redis-server's URL). */
  say?: (line: string) => void;
}

/** Throws LiveUnavailableError with the install hint when the matrix cannot run here. */
export function checkLiveRequirements(): string {
  const version = sidekiqVersion();
  if (version === undefined) throw new LiveUnavailableError(`Ruby Sidekiq is not installed: ${INSTALL_HINT}`);
  if (!redisServerInstalled()) throw new LiveUnavailableError('redis-server is not installed (the live matrix starts a private one): apt-get install -y redis-server');
  return version;
}

const LONG = 'ruby↔node '.repeat(5_000);

/** Awkward args: the JSON text, the value kiqgate's Client is given, Ruby's class tree, the JS value a handler sees. */
const AWKWARD: Array<{ json: string; give: () => unknown; ruby: string; js: () => NativeJson }> = [
  { json: '4611686018427387904', give: () => 2n ** 62n, ruby: '"Integer"', js: () => 2n ** 62n },
  { json: '-9223372036854775808', give: () => -(2n ** 63n), ruby: '"Integer"', js: () => -(2n ** 63n) },
  { json: '1.0', give: () => new JsonNumber('1.0'), ruby: '"Float"', js: () => 1 },
  { json: '1', give: () => 1, ruby: '"Integer"', js: () => 1 },
  ...['emoji 😀 👩‍👩‍👧', 'combining e\u0301 a\u0308', 'line\u2028sep\u2029para', LONG].map((s) => ({
    json: JSON.stringify(s), give: () => s, ruby: '"String"', js: () => s,
  })),
  {
    json: '{"nested":{"a":[null,true,{"k":"v"}],"n":-0.5}}',
    give: () => ({ nested: { a: [null, true, { k: 'v' }], n: -0.5 } }),
    ruby: '{"Hash":{"nested":{"Hash":{"a":{"Array":["NilClass","TrueClass",{"Hash":{"k":"String"}}]},"n":"Float"}}}}',
    js: () => ({ nested: { a: [null, true, { k: 'v' }], n: -0.5 } }),
  },
  { json: '[]', give: () => [], ruby: '{"Array":[]}', js: () => [] },
  { json: 'null', give: () => null, ruby: '"NilClass"', js: () => null },
  {
    json: '{"__proto__":{"x":1}}',
    give: () => JSON.parse('{"__proto__":{"x":1}}') as unknown,
    ruby: '{"Hash":{"__proto__":{"Hash":{"x":"Integer"}}}}',
    js: () => JSON.parse('{"__proto__":{"x":1}}') as NativeJson,
  },
];
const AWKWARD_JSON = `[${AWKWARD.map((a) => a.json).join(',')}]`;
const AWKWARD_RUBY_TYPES = `[${AWKWARD.map((a) => a.ruby).join(',')}]`;
const AWKWARD_SUMMARY = '2^62, -2^63, 1.0 vs 1, emoji, combining marks, U+2028, nested hash, [], null, 50 kB string, __proto__ key';

interface Run { args: NativeJson[]; retryCount: number | undefined; raw: string; queue: string }

class CompatFailure extends Error {
  override name = 'CompatFailure';
}

function must(cond: boolean, what: string): void {
  if (!cond) throw new Error(what);
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))?.slice(0, 300) ?? String(v);
}

/** The live state shared by the cells. */
class Live {
  readonly runs = new Map<string, Run[]>();
  readonly failOnce = new Set<string>();
  readonly latches = new Map<string, () => void>();
  kiqgateRuns = 0;
  kiqgateFailures = 0;
  sidekiq: SidekiqProcess | undefined;
  worker!: Worker;
  client!: Client;

  constructor(readonly url: string, readonly redis: Redis) {}

  diagnostics = (): string => (this.sidekiq ? `\n--- sidekiq log tail ---\n${this.sidekiq.logTail(20)}` : '');

  async start(): Promise<void> {
    const record = (args: NativeJson[], ctx: JobContext) => {
      const list = this.runs.get(ctx.jid!) ?? [];
      list.push({ args, retryCount: ctx.retryCount, raw: ctx.job.raw.toString('utf8'), queue: ctx.queue });
      this.runs.set(ctx.jid!, list);
    };
    this.client = new Client({ redis: this.url, peer: 'sidekiq6' });
    this.worker = new Worker({
      redis: this.url, peer: 'sidekiq6', queues: { kq: 3 }, pollIntervalMs: 500, shutdownTimeoutMs: 5000,
      blockTimeoutSeconds: 1, logger: pino({ level: 'silent' }),
      handlers: {
        KqRecord: (args, ctx) => { record(args, ctx); },
        KqFailOnce: (args, ctx) => {
          record(args, ctx);
          if (!this.failOnce.has(ctx.jid!)) {
            this.failOnce.add(ctx.jid!);
            throw new CompatFailure(`kiqgate failure ${String(args[0])}`);
          }
        },
        KqAlwaysFail: (args, ctx) => {
          record(args, ctx);
          throw new CompatFailure('always');
        },
        KqLatch: async (args, ctx) => {
          record(args, ctx);
          await new Promise<void>((resolve) => this.latches.set(String(args[0]), resolve));
        },
        FailJob: (args, ctx) => { record(args, ctx); },
      },
    });
    this.worker.on('job:finished', () => { this.kiqgateRuns++; });
    this.worker.on('job:failed', () => { this.kiqgateRuns++; this.kiqgateFailures++; });
    await this.worker.start();
  }

  async stop(): Promise<void> {
    for (const release of this.latches.values()) release();
    await this.sidekiq?.stop();
    await this.worker?.stop();
    await this.client?.close();
  }

  runsOf(jid: string, n = 1): Promise<Run[]> {
    return waitFor(() => { const r = this.runs.get(jid); return r && r.length >= n ? r : undefined; }, {
      what: `${n} kiqgate run(s) of job ${jid}`, timeoutMs: 30_000,
    });
  }

  received(jid: string) {
    return waitFor(() => readReceived(this.redis, jid), { what: `job ${jid} run by Ruby (compat:received)`, timeoutMs: 40_000, diagnostics: this.diagnostics });
  }

  async inZset(key: string, jid: string): Promise<{ member: string; score: number }> {
    return waitFor(async () => {
      const flat = await this.redis.zrange(key, 0, -1, 'WITHSCORES');
      for (let i = 0; i < flat.length; i += 2) {
        if ((JSON.parse(flat[i]!) as { jid?: string }).jid === jid) return { member: flat[i]!, score: Number(flat[i + 1]) };
      }
      return undefined;
    }, { what: `job ${jid} in the '${key}' zset`, timeoutMs: 40_000, diagnostics: this.diagnostics });
  }
}

type CellFn = (live: Live) => Promise<string>;

/** Phase 1 (no Ruby server yet, so kiqgate's counts are alone in Stats). */
const PHASE_1: Array<[LiveDirection, LiveRow, CellFn]> = [
  ['ruby→kiqgate', 'run now', async (live) => {
    const [jid] = await runRubyProducer(live.url, `[{"op":"push","class":"KqRecord","queue":"kq","args":${AWKWARD_JSON}}]`);
    const [run] = await live.runsOf(jid!);
    const want = AWKWARD.map((a) => a.js());
    AWKWARD.forEach((a, i) => must(isDeepStrictEqual(run!.args[i], want[i]), `arg ${i}: kiqgate got ${show(run!.args[i])}, Ruby sent ${a.json.slice(0, 100)}`));
    must(run!.args.length === AWKWARD.length, `kiqgate got ${run!.args.length} args, Ruby sent ${AWKWARD.length}`);
    must(run!.raw.includes(`"args":${AWKWARD_JSON}`), 'the raw job bytes differ from what Ruby wrote');
    return `Sidekiq::Client.push → Worker: ${AWKWARD.length} args exact (${AWKWARD_SUMMARY})`;
  }],
  ['ruby→kiqgate', 'run scheduled', async (live) => {
    const [a, b] = await runRubyProducer(live.url, [
      { op: 'perform_in', class: 'KqRecord', args: ['in', 2n ** 62n], interval: 1, queue: 'kq' },
      { op: 'push', class: 'KqRecord', args: ['at'], queue: 'kq', at: Date.now() / 1000 + 1 },
    ]);
    const [ra] = await live.runsOf(a!);
    const [rb] = await live.runsOf(b!);
    must(isDeepStrictEqual(ra!.args, ['in', 2n ** 62n]), `perform_in args: ${show(ra!.args)}`);
    must(isDeepStrictEqual(rb!.args, ['at']), `push at: args ${show(rb!.args)}`);
    must(/"enqueued_at":\d+\.\d+/.test(ra!.raw), 'the promoted job has no float enqueued_at');
    must((await live.redis.zcard('schedule')) === 0, 'the schedule set is not empty');
    return 'perform_in and push(at:) → schedule → promoted by kiqgate (enqueued_at set), args exact';
  }],
  ['ruby→kiqgate', 'run bulk', async (live) => {
    const jids = await runRubyProducer(live.url, [{ op: 'push_bulk', class: 'KqRecord', queue: 'kq', args: [[1], [2n ** 62n], [{ a: [] }]] }]);
    const runs = await Promise.all(jids.map((j) => live.runsOf(j!)));
    must(isDeepStrictEqual(runs.map((r) => r[0]!.args), [[1], [2n ** 62n], [{ a: [] }]]), `args: ${show(runs.map((r) => r[0]!.args))}`);
    return `Sidekiq::Client.push_bulk (${jids.length} jobs) → Worker, args exact`;
  }],
  ['kiqgate→ruby', 'retry set', async (live) => {
    const [jid] = await runRubyProducer(live.url, [{ op: 'push', class: 'KqFailOnce', queue: 'kq', args: [2n ** 62n, 'once'] }]);
    const { member } = await live.inZset('retry', jid!);
    const set = await runRubyApi(live.url, { op: 'retry_set' });
    const e = set.entries.find((x) => x.jid === jid);
    must(e !== undefined, 'RetrySet does not list the entry');
    must(e!.value === member, 'RetrySet entry value differs from the Redis member');
    const got = { class: e!.class, queue: e!.queue, retry_count: e!.retry_count, error_class: e!.error_class, error_message: e!.error_message, retried_at: e!.retried_at };
    const want = { class: 'KqFailOnce', queue: 'kq', retry_count: 0, error_class: 'CompatFailure', error_message: 'kiqgate failure 4611686018427387904', retried_at: null };
    must(isDeepStrictEqual(got, want), `RetrySet entry ${show(got)}, expected ${show(want)}`);
    must(typeof e!.failed_at === 'number' && e!.score - e!.failed_at >= 15 && e!.score - e!.failed_at < 25, `retry delay ${e!.score - (e!.failed_at ?? 0)} s is not 15 + jitter`);
    const ra = await runRubyApi(live.url, { op: 'retry_all' });
    must(ra.retried === 1 && ra.retry_size === 0, `retry_all: ${show(ra)}`);
    const runs = await live.runsOf(jid!, 2);
    must(isDeepStrictEqual(runs[1]!.args, [2n ** 62n, 'once']), `rerun args ${show(runs[1]!.args)}`);
    must(runs[1]!.retryCount === -1, `rerun retry_count ${runs[1]!.retryCount}, Sidekiq's manual retry gives -1`);
    return 'kiqgate failure read by RetrySet (class, queue, retry_count 0, error_class/message, failed_at, delay); retry_all → kiqgate reruns';
  }],
  ['kiqgate→ruby', 'dead set', async (live) => {
    const jid = await live.client.enqueue({ class: 'KqAlwaysFail', queue: 'kq', args: [{ k: -(2n ** 63n) }] });
    await live.inZset('retry', jid);
    const killed = await runRubyApi(live.url, { op: 'kill_jid', jid });
    must(killed.found, 'RetrySet#find_job did not find the kiqgate entry to kill');
    const dead = await runRubyApi(live.url, { op: 'dead_set' });
    const e = dead.entries.find((x) => x.jid === jid);
    must(e !== undefined && e.class === 'KqAlwaysFail' && e.error_class === 'CompatFailure' && e.retry_count === 0, `DeadSet entry ${show(e)}`);
    must(e!.value.includes('"args":[{"k":-9223372036854775808}]'), 'DeadSet entry args are not exact');
    const rd = await runRubyApi(live.url, { op: 'dead_retry_all' });
    must(rd.retried === 1 && rd.dead_size === 0, `DeadSet#retry_all: ${show(rd)}`);
    const runs = await live.runsOf(jid, 2);
    must(isDeepStrictEqual(runs[1]!.args, [{ k: -(2n ** 63n) }]), `rerun args ${show(runs[1]!.args)}`);
    await live.inZset('retry', jid);
    await runRubyApi(live.url, { op: 'kill_jid', jid }); // park it, so no poller promotes it later
    return 'kiqgate retry entry killed by the API, read by DeadSet, DeadSet#retry_all → kiqgate reruns';
  }],
  ['kiqgate→ruby', 'process set', async (live) => {
    const w = live.worker;
    const [jid] = await runRubyProducer(live.url, [{ op: 'push', class: 'KqLatch', queue: 'kq', args: ['latch-1'] }]);
    await live.runsOf(jid!);
    try {
      const p = await waitFor(async () => {
        const ps = await runRubyApi(live.url, { op: 'process_set' });
        return ps.processes.find((x) => x.identity === w.identity && x.busy === 1);
      }, { what: 'the kiqgate process with busy 1 in Sidekiq::ProcessSet (5 s heartbeat)', timeoutMs: 40_000 });
      must(p.pid === process.pid && p.concurrency === 3 && isDeepStrictEqual(p.queues, ['kq']) && p.quiet === 'false', `ProcessSet entry ${show(p)}`);
      const ws = await runRubyApi(live.url, { op: 'work_set' });
      const work = ws.entries.find((x) => x.jid === jid);
      must(work !== undefined && work.process === w.identity && work.queue === 'kq' && work.class === 'KqLatch', `WorkSet entry ${show(work)}`);
    } finally {
      live.latches.get('latch-1')?.();
    }
    return 'Sidekiq::ProcessSet lists the kiqgate process (pid, concurrency, queues, quiet) with busy 1; WorkSet shows its job';
  }],
  ['kiqgate→ruby', 'stats', async (live) => {
    const s = await waitFor(async () => {
      const st = await runRubyApi(live.url, { op: 'stats' });
      return st.processed === live.kiqgateRuns && st.failed === live.kiqgateFailures ? st : undefined;
    }, { what: `Sidekiq::Stats processed == ${live.kiqgateRuns} and failed == ${live.kiqgateFailures} (kiqgate's counts)`, timeoutMs: 20_000 });
    return `Sidekiq::Stats processed ${s.processed}, failed ${s.failed} = kiqgate's runs and failures; processes_size ${s.processes_size}`;
  }],
];

/** Phase 2: a Sidekiq server runs (queues default and rbfail). */
const PHASE_2: Array<[LiveDirection, LiveRow, CellFn]> = [
  ['kiqgate→ruby', 'run now', async (live) => {
    const jid = await live.client.enqueue({ class: 'RecordJob', args: AWKWARD.map((a) => a.give()) });
    const rec = await live.received(jid);
    must(rec.args_json === AWKWARD_JSON, `Ruby's JSON.generate(args) differs: ${rec.args_json.slice(0, 200)}`);
    must(JSON.stringify(rec.types) === AWKWARD_RUBY_TYPES, `Ruby types ${JSON.stringify(rec.types)}`);
    must(rec.raw_payload.startsWith(`{"retry":true,"queue":"default","class":"RecordJob","args":${AWKWARD_JSON},"jid":"${jid}","created_at":`), 'Sidekiq fetched other bytes than Sidekiq 6 writes');
    return `Client (sidekiq6) → sidekiq: ${AWKWARD.length} args exact as Ruby values (Integer/Float/String/Hash/Array/NilClass)`;
  }],
  ['kiqgate→ruby', 'run scheduled', async (live) => {
    const jid = await live.client.enqueue({ class: 'RecordJob', args: [2n ** 62n, new JsonNumber('1.0')], in: 1 });
    const rec = await live.received(jid);
    must(rec.args_json === '[4611686018427387904,1.0]' && JSON.stringify(rec.types) === '["Integer","Float"]', `Ruby got ${rec.args_json} ${JSON.stringify(rec.types)}`);
    must(rec.enqueued_at! + 0.001 >= rec.created_at! + 1, 'Sidekiq ran the job before its time');
    return 'Client in: 1 → schedule → promoted by Sidekiq\'s poller, run by sidekiq, args exact';
  }],
  ['kiqgate→ruby', 'run bulk', async (live) => {
    const jids = await live.client.enqueueBulk({ class: 'RecordJob', args: [[1], [2n ** 62n], [new JsonNumber('1.0')], [null]] });
    const recs = await Promise.all(jids.map((j) => live.received(j)));
    const got = recs.map((r) => r.args_json);
    must(isDeepStrictEqual(got, ['[1]', '[4611686018427387904]', '[1.0]', '[null]']), `Ruby got ${show(got)}`);
    must(new Set(recs.map((r) => r.created_at)).size === 1, 'the bulk jobs do not share created_at');
    return `Client.enqueueBulk (${jids.length} jobs, one created_at) → sidekiq, args exact`;
  }],
  ['ruby→kiqgate', 'retry set', async (live) => {
    const [jid] = await runRubyProducer(live.url, [{ op: 'push', class: 'FailJob', queue: 'rbfail', args: [2n ** 62n, 'ruby-failed'] }]);
    const written = await live.inZset('retry', jid!);
    await live.sidekiq!.stop();
    live.sidekiq = undefined;
    must(JSON.parse(written.member).error_class === 'RuntimeError', 'the Sidekiq retry entry has no error_class RuntimeError');
    // Due now (same member bytes, new score) instead of in 15-24 s.
    await live.redis.zadd('retry', 'XX', String(Date.now() / 1000 - 1), written.member);
    live.worker.addQueue('rbfail', 1);
    const [run] = await live.runsOf(jid!);
    must(isDeepStrictEqual(run!.args, [2n ** 62n, 'ruby-failed']), `args ${show(run!.args)}`);
    must(run!.retryCount === 0, `retry_count ${run!.retryCount}`);
    const strip = (s: string) => s.replace(/"enqueued_at":[0-9.e+]+/, '');
    must(strip(run!.raw) === strip(written.member), 'promotion changed more than enqueued_at');
    must((await live.redis.hget(ATTEMPTS_KEY, jid!)) === '1', 'Ruby ran the job again');
    return 'retry entry written by the sidekiq server (FailJob) → sidekiq stopped → promoted by kiqgate (only enqueued_at rewritten) and run, args exact';
  }],
];

/** Runs the whole matrix on a private redis-server. Throws LiveUnavailableError when Ruby is missing. */
export async function runLiveMatrix(opts: LiveOptions = {}): Promise<LiveReport> {
  const version = checkLiveRequirements();
  const peer = `sidekiq-${version}`;
  const cells: LiveCell[] = [];
  let server: RedisServerHandle | undefined;
  let redis: Redis | undefined;
  let live: Live | undefined;
  const runCell = async (direction: LiveDirection, row: LiveRow, fn: CellFn) => {
    let cell: LiveCell;
    try {
      cell = { peer, direction, row, ok: true, detail: await fn(live!) };
    } catch (err) {
      cell = { peer, direction, row, ok: false, detail: (err as Error).message };
    }
    cells.push(cell);
    opts.onCell?.(cell);
  };
  try {
    server = await startRedisServer();
    opts.say?.(`live: a private redis-server at ${server.url} (stopped afterwards)`);
    redis = new Redis(server.url);
    live = new Live(server.url, redis);
    await live.start();
    for (const [d, r, fn] of PHASE_1) await runCell(d, r, fn);
    try {
      live.sidekiq = await startSidekiq({
        redisUrl: server.url, queues: ['default', 'rbfail'], concurrency: 3, shutdownTimeoutS: 2,
        env: { COMPAT_POLL_INTERVAL_AVERAGE: '1' },
      });
    } catch (err) {
      for (const [d, r] of PHASE_2) {
        const cell: LiveCell = { peer, direction: d, row: r, ok: false, detail: `sidekiq did not start: ${(err as Error).message}` };
        cells.push(cell);
        opts.onCell?.(cell);
      }
      return { peer, redis: 'private redis-server', cells };
    }
    for (const [d, r, fn] of PHASE_2) await runCell(d, r, fn);
  } finally {
    await live?.stop();
    redis?.disconnect();
    await server?.stop();
  }
  return { peer, redis: 'private redis-server', cells };
}

/** `PASS live ruby→kiqgate run now  <detail>` */
export function liveCellLine(c: LiveCell): string {
  return `${c.ok ? 'PASS' : 'FAIL'} live ${c.direction} ${c.row}  ${c.detail.replace(/\n/g, '\n    ')}`;
}

/** The peer × direction matrix in Markdown (rows: interaction; columns: direction). */
export function liveMarkdown(report: LiveReport): string {
  const head = `| peer | interaction | ${LIVE_DIRECTIONS.join(' | ')} |\n|---|---|${LIVE_DIRECTIONS.map(() => '---').join('|')}|`;
  const rows = LIVE_ROWS.map((row) => {
    const cols = LIVE_DIRECTIONS.map((d) => {
      const c = report.cells.find((x) => x.direction === d && x.row === row);
      return c ? `${c.ok ? 'pass' : '**FAIL**'}: ${c.detail.replace(/\|/g, '\\|').replace(/\n/g, ' ')}` : 'n/a';
    });
    return `| ${report.peer} | ${row} | ${cols.join(' | ')} |`;
  });
  return [head, ...rows].join('\n');
}
