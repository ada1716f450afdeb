/**
 * Scenario "badinput": every case of the bad-input corpus (fixtures/malformed/index.json)
 * LPUSHed raw into the queue of a running worker process, each between two good ChaosJobs.
 *
 * What each case must become, from its index entry:
 * - `code` set (undecodable): a Kiqgate::UndecodablePayload entry in `dead` holds exactly its
 *   bytes (raw_base64 decoded, compared as Buffers), with that code in `undecodable_code` and an
 *   error_message containing the index's `contains` fragment;
 * - decodes, with a class no handler has (`NoSuchWorker`, `__proto__`, `constructor`): a retry
 *   entry saying `unknown job class '<name>'`, as a Sidekiq process does;
 * - decodes, class HardWorker: it runs (the worker records the sha1 of the bytes it ran).
 * Plus one case made here: a valid 7 MiB job, under the default 8 MiB limit, must run.
 * Always: the worker process stays up, and every good job runs.
 *
 * The generated cases (10 MB, 10,000 levels) are read from fixtures/malformed/generated/ when
 * present, else built in memory by scripts/make-malformed.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { undecodableOriginal } from '../../../src/wire/index.js';
import { REPO_ROOT } from '../lib/children.js';
import {
  type Scenario, type ScenarioContext, type ScenarioResult, logProblems, readRuns, runCounts, sleep, waitFor,
} from '../lib/harness.js';

interface IndexEntry {
  name: string; file: string; code: string | null; contains?: string; generated?: boolean;
  decodes?: { class: string }; sha256: string;
}

interface Case { name: string; bytes: Buffer; expect: 'dead' | 'retry' | 'run'; code?: string; contains?: string; className?: string }

const MALFORMED = join(REPO_ROOT, 'fixtures', 'malformed');
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

async function loadCorpus(): Promise<Case[]> {
  const index = JSON.parse(readFileSync(join(MALFORMED, 'index.json'), 'utf8')) as IndexEntry[];
  let generator: Array<{ name: string; bytes: () => Buffer }> | undefined;
  const cases: Case[] = [];
  for (const e of index) {
    const path = join(MALFORMED, e.file);
    let bytes: Buffer;
    if (existsSync(path)) bytes = readFileSync(path);
    else {
      generator ??= ((await import(pathToFileURL(join(REPO_ROOT, 'scripts', 'make-malformed.ts')).href)) as { CASES: Array<{ name: string; bytes: () => Buffer }> }).CASES;
      const gen = generator.find((c) => c.name === e.name);
      if (!gen) throw new Error(`corpus case ${e.name}: ${e.file} is missing and scripts/make-malformed.ts does not make it`);
      bytes = gen.bytes();
    }
    if (createHash('sha256').update(bytes).digest('hex') !== e.sha256) throw new Error(`corpus case ${e.name}: bytes do not match index.json's sha256`);
    if (e.code) cases.push({ name: e.name, bytes, expect: 'dead', code: e.code, ...(e.contains ? { contains: e.contains } : {}) });
    else if (e.decodes?.class === 'HardWorker') cases.push({ name: e.name, bytes, expect: 'run' });
    else cases.push({ name: e.name, bytes, expect: 'retry', className: e.decodes?.class ?? '?' });
  }
  const big = `{"retry":true,"queue":"chaos","class":"HardWorker","args":["${'y'.repeat(7 * 1024 * 1024)}"],"jid":"b1gb1gb1gb1gb1gb1gb1gb1g"}`;
  cases.push({ name: 'valid-7mib (made here)', bytes: Buffer.from(big), expect: 'run' });
  return cases;
}

export const badinput: Scenario = {
  name: 'badinput',
  title: 'malformed and hostile payloads (fixtures/malformed)',
  timeoutMs: { quick: 60_000, full: 90_000 },
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const cases = await loadCorpus();
    const server = await ctx.group.startRedis();
    const admin = new Redis(server.url, { maxRetriesPerRequest: null });
    const failures: string[] = [];
    try {
      const worker = ctx.group.startWorker({
        label: 'worker-1', redis: server.url, concurrency: 2, runLog: `${ctx.dir}/runs-1.log`, log: `${ctx.dir}/worker-1.log`,
      });
      await worker.ready();
      // Good jobs around every bad one, pushed in order (the worker consumes from the tail).
      const good: string[] = [];
      const goodJob = (i: number) => {
        const jid = `good${String(i).padStart(20, '0')}`;
        good.push(jid);
        return JSON.stringify({ class: 'ChaosJob', args: [0], queue: 'chaos', jid, retry: true, created_at: Date.now() / 1000 });
      };
      await admin.lpush('queue:chaos', goodJob(0));
      for (const [i, c] of cases.entries()) {
        await admin.lpush('queue:chaos', c.bytes);
        await admin.lpush('queue:chaos', goodJob(i + 1));
      }
      ctx.say(`${cases.length} cases (${cases.filter((c) => c.expect === 'dead').length} undecodable, ${cases.filter((c) => c.expect === 'retry').length} unknown classes, ${cases.filter((c) => c.expect === 'run').length} valid) between ${good.length} good jobs; 1 worker × 2`);

      const ranAll = await waitFor(async () => {
        const counts = runCounts(readRuns(ctx.dir));
        return good.every((j) => counts.has(j)) && (await admin.llen('queue:chaos')) === 0 && (await admin.keys('inprogress:chaos:*')).length === 0;
      }, 30_000, 200);
      await sleep(300);
      const dead = await admin.zrangeBuffer('dead', 0, -1);
      const retry = (await admin.zrange('retry', 0, -1)).map((e) => JSON.parse(e) as Record<string, unknown>);
      const counts = runCounts(readRuns(ctx.dir));
      const alive = worker.alive;
      const crashed = ctx.group.crashed();
      await ctx.group.stopWorkers();

      const rows: Array<{ name: string; expect: string; ok: boolean; got: string }> = [];
      for (const c of cases) {
        let ok = false;
        let got: string;
        if (c.expect === 'dead') {
          const member = dead.find((d) => undecodableOriginal(d)?.equals(c.bytes));
          const rec = member ? (JSON.parse(member.toString('utf8')) as { undecodable_code?: string; error_message?: string }) : undefined;
          const msgOk = !c.contains || (rec?.error_message ?? '').includes(c.contains);
          ok = rec !== undefined && rec.undecodable_code === c.code && msgOk;
          got = rec ? `in dead byte for byte (raw_base64), ${(rec.error_message ?? '').slice(0, 80)}${msgOk ? '' : ` (expected "${c.contains}")`}` : 'NOT in dead';
        } else if (c.expect === 'retry') {
          const e = retry.find((r) => r.class === c.className);
          const want = `unknown job class '${c.className}'`;
          ok = e !== undefined && String(e.error_message).includes(want);
          got = e ? `retry: ${String(e.error_class)}: ${String(e.error_message)}` : 'NOT in retry';
        } else {
          const n = counts.get(`sha1:${sha1(c.bytes)}`) ?? 0;
          ok = n === 1;
          got = n ? `ran ${n}×` : 'did NOT run';
        }
        rows.push({ name: c.name, expect: c.expect, ok, got });
      }
      const goodRan = good.filter((j) => counts.has(j)).length;
      const bad = rows.filter((r) => !r.ok);
      for (const r of rows) ctx.say(`${r.ok ? '✓' : '✗'} ${r.name.padEnd(28)} → ${r.expect.padEnd(5)} ${r.got}`);
      ctx.say(`good jobs run: ${goodRan} of ${good.length}; worker process ${alive ? 'still up' : 'EXITED'}; dead ${dead.length}, retry ${retry.length}`);
      if (!ranAll) failures.push('not every good job ran (or the queue did not drain)');
      if (bad.length > 0) failures.push(`${bad.length} cases not handled as expected: ${bad.map((r) => r.name).join(', ')}`);
      if (goodRan < good.length) failures.push(`${good.length - goodRan} good jobs did not run`);
      if (!alive || crashed.length > 0) failures.push(`worker crashed: ${worker.describeExit()}`);
      return {
        pass: failures.length === 0,
        failures,
        summary: `${rows.length - bad.length}/${rows.length} cases as expected, good jobs ${goodRan}/${good.length}, worker ${alive ? 'up' : 'DOWN'}`,
        figures: { cases: rows, goodJobs: good.length, goodRan, dead: dead.length, retry: retry.length, workerAlive: alive, workerLogProblems: logProblems(ctx.dir) },
      };
    } finally {
      admin.disconnect();
    }
  },
};
