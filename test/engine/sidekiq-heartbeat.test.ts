/**
 * The Sidekiq heartbeat against the real Redis: the keys it writes have the names, types, TTLs,
 * fields and value formats of what real Sidekiq 6.4.1 / 7.3.10 / 8.1.7 wrote in the captured
 * worker-success scenario; signals pushed to `<identity>-signals` reach the engine; stop()
 * deregisters. With Ruby Sidekiq installed, Sidekiq's own API reads the process back.
 */
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SidekiqHeartbeat, workEntry } from '../../src/engine/sidekiq-heartbeat.js';
import { processIdentity } from '../../src/engine/process-identity.js';
import type { EngineView, RunningJob } from '../../src/engine/engine-view.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { KeyLayout, PEER_TRAITS, type Peer } from '../../src/wire/index.js';
import { loadFixture } from '../support/fixtures.js';
import { dropNamespace, testRedis, uniqueNamespace } from '../support/redis.js';
import { until } from '../support/wait.js';

const FIXTURE_SET: Partial<Record<Peer, string>> = { sidekiq6: 'sidekiq-6.4.1', sidekiq7: 'sidekiq-7.3.10', sidekiq8: 'sidekiq-8.1.7' };

/** A small real engine view: fixed queues and concurrency, a settable list of running jobs. */
interface TestView extends EngineView {
  jobs: RunningJob[];
  calls: string[];
  quietNow: boolean;
}

function testView(peer: Peer, keys: KeyLayout, queues = ['default']): TestView {
  const view: TestView = {
    nodeId: 'n1',
    identity: processIdentity(),
    keys,
    logger: pino({ level: 'silent' }),
    peer,
    jobs: [],
    calls: [],
    quietNow: false,
    queues: () => queues,
    concurrency: () => 2,
    running: () => view.jobs,
    isQuiet: () => view.quietNow,
    quiet: () => { view.calls.push('quiet'); view.quietNow = true; },
    requestStop: () => { view.calls.push('stop'); view.quietNow = true; },
    requeueInProgress: () => Promise.resolve(0),
  };
  return view;
}

const JOB = '{"retry":true,"queue":"default","args":[0,"job-0"],"class":"HardWorker","jid":"7f75ca856741848bb60bc5ac","created_at":1795872489.9952974,"enqueued_at":1795872489.9955168}';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(peer: Peer, beatMs?: number, url?: string) {
  const redis = testRedis(url);
  const ns = uniqueNamespace('hb');
  const keys = new KeyLayout(ns);
  const view = testView(peer, keys);
  const hb = new SidekiqHeartbeat(redis, view, beatMs === undefined ? {} : { beatMs });
  cleanups.push(async () => {
    await hb.stop();
    const admin = testRedis(url); // `redis` may have been closed by the test
    await dropNamespace(admin, ns);
    await admin.quit();
    if (redis.status !== 'end') await redis.quit();
  });
  return { redis, ns, keys, view, hb };
}

/** The fixture's process and work hashes from the checkpoint taken while jobs were running. */
function fixtureShape(peer: Peer) {
  const fx = loadFixture(FIXTURE_SET[peer]!, 'worker-success');
  const busy = fx.checkpoints!.find((c) => c.label === 'heartbeat while busy')!.state;
  const identity = [...(busy.processes!.value as string[])][0]!;
  return { identity, process: busy[identity]!, work: busy[`${identity}${PEER_TRAITS[peer].workKeySuffix}`]!, processes: busy.processes! };
}

/**
 * An argument as ioredis's `monitor` event reports it: Redis prints it with sdscatrepr (`\\`,
 * `\"`, `\n`…, `\xHH` for other bytes) and ioredis only turns `\"` back into `"`.
 */
function asIoredisMonitorSeesIt(arg: string): string {
  const named: Record<number, string> = { 0x5c: '\\\\', 0x22: '\\"', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x07: '\\a', 0x08: '\\b' };
  let out = '';
  for (const b of Buffer.from(arg)) {
    out += named[b] ?? (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`);
  }
  return out.replace(/\\"/g, '"');
}

const FLOAT_S = /^\d{10}\.\d+$/;
const INT = /^\d+$/;

describe.each(['sidekiq6', 'sidekiq7', 'sidekiq8'] as const)('SidekiqHeartbeat (%s layout)', (peer) => {
  it('writes the keys, types, TTLs, fields and value formats real Sidekiq writes', async () => {
    const { redis, keys, view, hb } = await setup(peer);
    view.jobs = [{ slotId: 'b6t', queue: 'default', payload: JOB, startedAtMs: 1795872489_123 }];
    await hb.start();

    const want = fixtureShape(peer);
    const procKey = keys.process(view.identity);
    const workKey = keys.processWork(view.identity, PEER_TRAITS[peer].workKeySuffix);
    // Same key names as the fixture, modulo the identity and our test namespace.
    expect(procKey).toBe(keys.key(view.identity));
    expect(workKey).toBe(keys.key(`${view.identity}${peer === 'sidekiq6' ? ':workers' : ':work'}`));

    expect(await redis.type(keys.processes)).toBe(want.processes.type);
    expect(await redis.smembers(keys.processes)).toEqual([view.identity]);
    expect(await redis.pttl(keys.processes)).toBe(want.processes.ttl_ms);

    // <identity>: a hash with the fixture's field set, 60 s TTL.
    expect(await redis.type(procKey)).toBe(want.process.type);
    const ttl = await redis.pttl(procKey);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const got = await redis.hgetall(procKey);
    const wantHash = want.process.value as Record<string, string>;
    expect(Object.keys(got).sort()).toEqual(Object.keys(wantHash).sort());
    expect(got.beat).toMatch(FLOAT_S);
    expect(Math.abs(Number(got.beat) * 1000 - Date.now())).toBeLessThan(60_000);
    expect(got.quiet).toBe('false');
    expect(got.busy).toBe('1');
    expect(got.rss).toMatch(INT);
    expect(got.rtt_us).toMatch(INT);
    if (peer === 'sidekiq8') expect(got.concurrency).toBe('2');

    // info: the fixture's fields, in its order, with the same JSON types.
    const info = JSON.parse(got.info!) as Record<string, unknown>;
    const wantInfo = JSON.parse(wantHash.info!) as Record<string, unknown>;
    expect(Object.keys(info)).toEqual(Object.keys(wantInfo));
    for (const k of Object.keys(wantInfo)) expect([k, typeof info[k], Array.isArray(info[k])]).toEqual([k, typeof wantInfo[k], Array.isArray(wantInfo[k])]);
    expect(got.info).toMatch(/"started_at":\d{10}\.\d+,/);
    expect(info.identity).toBe(view.identity);
    expect(info.pid).toBe(process.pid);
    expect(info.queues).toEqual(['default']);
    expect(info.labels).toEqual([]);
    if (peer !== 'sidekiq8') expect(info.concurrency).toBe(2);
    if (peer !== 'sidekiq6') {
      expect(info.weights).toEqual(wantInfo.weights); // [{"default":0}] for one strict queue
      expect(info.version).toBe(wantInfo.version);
      expect(info.embedded).toBe(false);
    }
    if (peer === 'sidekiq8') expect(info.capsules).toEqual(wantInfo.capsules);

    // <identity>:work(ers): slot → {"queue","payload" (the raw job as a string),"run_at" (int s)}.
    expect(await redis.type(workKey)).toBe(want.work.type);
    const wttl = await redis.pttl(workKey);
    expect(wttl).toBeGreaterThan(50_000);
    expect(wttl).toBeLessThanOrEqual(60_000);
    const work = await redis.hgetall(workKey);
    expect(Object.keys(work)).toEqual(['b6t']);
    const entry = work.b6t!;
    const wantEntry = Object.values(want.work.value as Record<string, string>)[0]!;
    expect(Object.keys(JSON.parse(entry) as object)).toEqual(Object.keys(JSON.parse(wantEntry) as object));
    expect(entry).toBe(`{"queue":"default","payload":${JSON.stringify(JOB)},"run_at":1795872489}`);
    expect(JSON.parse(entry)).toEqual({ queue: 'default', payload: JOB, run_at: 1795872489 });
  });

  it('sends the commands of a real Sidekiq beat, in its order, with byte-identical work entries', async () => {
    // A private server: MONITOR on the shared one races ioredis's monitor mode under load.
    const server = await startRedisServer();
    cleanups.push(() => server.stop());
    const { redis, keys, view, hb } = await setup(peer, undefined, server.url);
    const fx = loadFixture(FIXTURE_SET[peer]!, 'worker-success');
    const fxIdentity = fixtureShape(peer).identity;
    // The fixture's busy beat: from the MULTI before the first work HSET to the EXEC after RPOP.
    const argvs = fx.commands.map((c) => c.argv.map(String));
    const firstWork = argvs.findIndex((a) => a[0]!.toLowerCase() === 'hset' && a[1] !== fxIdentity && a[1]!.startsWith(fxIdentity));
    const from = argvs.slice(0, firstWork).map((a) => a[0]!.toLowerCase()).lastIndexOf('multi');
    const to = argvs.findIndex((a, i) => i > firstWork && a[0]!.toLowerCase() === 'rpop') + 1;
    const fxBeat = argvs.slice(from, to + 1).filter((a) => !a[1]?.startsWith('stat:')); // stats are not the heartbeat's
    // Run the jobs the fixture's process was running, in the same slots.
    view.jobs = fxBeat
      .filter((a) => a[0]!.toLowerCase() === 'hset' && a[1] !== fxIdentity)
      .flatMap((a) => a.slice(2).flatMap((v, i, all) => (i % 2 === 0 ? [[v, all[i + 1]!] as const] : [])))
      .map(([slotId, entry]) => {
        const w = JSON.parse(entry) as { queue: string; payload: string; run_at: number };
        return { slotId, queue: w.queue, payload: w.payload, startedAtMs: w.run_at * 1000 + 250 };
      });
    expect(view.jobs.length).toBeGreaterThan(0);
    await hb.start();

    const addr = /\baddr=(\S+)/.exec(String(await redis.client('INFO')))![1];
    const base = testRedis(server.url);
    const monitor = await base.monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => { if (source === addr) seen.push(args); });
    try {
      await new Promise((r) => setTimeout(r, 50)); // monitor() resolves on MONITOR's OK; a margin, not an assertion
      await hb.beat();
      await until(() => seen.some((a) => a[0]!.toLowerCase() === 'rpop') && seen.at(-1)![0]!.toLowerCase() === 'exec', 'the beat in MONITOR');
    } finally {
      monitor.disconnect();
      base.disconnect();
    }

    // Normalize: lowercase names, identity → ID, process-hash values dropped (they vary).
    const norm = (argv: string[], identity: string, prefix: string) => {
      const a = argv.map((v) => v.replace(prefix + identity, 'ID').replace(identity, 'ID'));
      a[0] = a[0]!.toLowerCase();
      if ((a[0] === 'hset' || a[0] === 'hmset') && a[1] === 'ID') return [a[0], a[1], ...a.slice(2).filter((_, i) => i % 2 === 0)];
      return a;
    };
    const got = seen.map((a) => norm(a, view.identity, keys.prefix)).map((a) => a.join(' ').replace(keys.prefix, ''));
    const want = fxBeat.map((a) => norm(a.map(asIoredisMonitorSeesIt), fxIdentity, '')).map((a) => a.join(' '));
    expect(got).toEqual(want);
  });

  it('shows what runs now on each beat, and an idle process has no work hash', async () => {
    const { redis, keys, view, hb } = await setup(peer);
    const workKey = keys.processWork(view.identity, PEER_TRAITS[peer].workKeySuffix);
    await hb.start();
    expect(await redis.exists(workKey)).toBe(0);
    expect(await redis.hget(keys.process(view.identity), 'busy')).toBe('0');

    const second = JOB.replace('7f75ca856741848bb60bc5ac', '21a64901a6ef6df204f21546');
    view.jobs = [
      { slotId: 's1', queue: 'default', payload: JOB, startedAtMs: Date.now() },
      { slotId: 's2', queue: 'critical', payload: second, startedAtMs: Date.now() },
    ];
    await hb.beat();
    expect(await redis.hgetall(workKey)).toEqual({ s1: workEntry(view.jobs[0]!), s2: workEntry(view.jobs[1]!) });
    expect(await redis.hget(keys.process(view.identity), 'busy')).toBe('2');

    view.jobs = [];
    await hb.beat();
    expect(await redis.exists(workKey)).toBe(0);
  });

  it('handles TSTP then TERM from <identity>-signals, one per beat, in order', async () => {
    const { redis, keys, view, hb } = await setup(peer, 50);
    await hb.start();
    // What Sidekiq::Process#quiet! and #stop! send.
    await redis.multi().lpush(keys.processSignals(view.identity), 'TSTP').expire(keys.processSignals(view.identity), 60).exec();
    await redis.lpush(keys.processSignals(view.identity), 'TERM');
    await until(() => view.calls.length === 2, 'both signals to be handled');
    expect(view.calls).toEqual(['quiet', 'stop']);
    await until(async () => (await redis.hget(keys.process(view.identity), 'quiet')) === 'true', 'quiet "true" on a later beat');
  });

  it('stop() leaves processes and removes the work hash; the process hash is left to expire', async () => {
    const { redis, keys, view, hb } = await setup(peer, 50);
    view.jobs = [{ slotId: 'b6t', queue: 'default', payload: JOB, startedAtMs: Date.now() }];
    await hb.start();
    await hb.beat();
    await hb.stop();
    expect(await redis.sismember(keys.processes, view.identity)).toBe(0);
    expect(await redis.exists(keys.processWork(view.identity, PEER_TRAITS[peer].workKeySuffix))).toBe(0);
    expect(await redis.exists(keys.process(view.identity))).toBe(1);
    // No beat after stop puts it back.
    await new Promise((r) => setTimeout(r, 150));
    expect(await redis.sismember(keys.processes, view.identity)).toBe(0);
  });
});

describe('SidekiqHeartbeat edges', () => {
  it('stop() on a closed connection resolves', async () => {
    const { redis, hb } = await setup('sidekiq7');
    await hb.start();
    await redis.quit();
    await expect(hb.stop()).resolves.toBeUndefined();
  });

  it('refuses a non-Sidekiq peer', () => {
    const redis = new Redis({ lazyConnect: true });
    expect(() => new SidekiqHeartbeat(redis, testView('verk', new KeyLayout('x')))).toThrow(/not a Sidekiq version/);
    redis.disconnect();
  });

  it('keeps queue names in order in weights, even integer-like ones', async () => {
    const view = testView('sidekiq7', new KeyLayout('x'), ['critical', '10', 'default']);
    const redis = new Redis({ lazyConnect: true });
    const text = new SidekiqHeartbeat(redis, view).info();
    redis.disconnect();
    expect((JSON.parse(text) as { queues: string[] }).queues).toEqual(['critical', '10', 'default']);
    expect(text).toContain('"weights":[{"critical":0,"10":0,"default":0}]');
  });
});

const rubySidekiq = spawnSync('ruby', ['-e', 'require "sidekiq"; print Sidekiq::VERSION'], { encoding: 'utf8' });
const rubyVersion = rubySidekiq.status === 0 ? rubySidekiq.stdout.trim() : undefined;

describe('Sidekiq\'s own API reads a kiqgate process', () => {
  it.runIf(rubyVersion?.startsWith('6.4'))('Sidekiq::ProcessSet, WorkSet and Stats list it; Process#quiet! quiets it', async () => {
    const server: RedisServerHandle = await startRedisServer();
    const redis = new Redis(server.url);
    const view = testView('sidekiq6', new KeyLayout(), ['critical', 'default']);
    const hb = new SidekiqHeartbeat(redis, view, { beatMs: 100, tag: 'kiqgate-test' });
    cleanups.push(async () => {
      await hb.stop();
      await redis.quit();
      await server.stop();
    });
    view.jobs = [{ slotId: 'b6t', queue: 'default', payload: JOB, startedAtMs: 1795872489_000 }];
    await hb.start();

    const ruby = (script: string) => {
      const out = spawnSync('ruby', ['-e', `require "sidekiq/api"; require "json"
        Sidekiq.configure_client { |c| c.redis = { url: ${JSON.stringify(server.url)} } }
        Sidekiq.logger.level = Logger::WARN
        ${script}`], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`ruby failed: ${out.stderr}`);
      return JSON.parse(out.stdout) as Record<string, unknown>;
    };

    const seen = ruby(`
      ps = Sidekiq::ProcessSet.new.to_a
      work = []
      Sidekiq::WorkSet.new.each { |pid, tid, w| work << { "process" => pid, "thread" => tid, "queue" => w["queue"], "run_at" => w["run_at"], "jid" => w["payload"]["jid"] } }
      stats = Sidekiq::Stats.new
      puts JSON.generate({
        "processes" => ps.map { |p| { "identity" => p.identity, "busy" => p["busy"], "queues" => p["queues"], "concurrency" => p["concurrency"], "tag" => p.tag, "pid" => p["pid"], "stopping" => p.stopping? } },
        "work" => work, "workers_size" => stats.workers_size, "processes_size" => stats.processes_size,
      })`);
    expect(seen).toEqual({
      processes: [{ identity: view.identity, busy: 1, queues: ['critical', 'default'], concurrency: 2, tag: 'kiqgate-test', pid: process.pid, stopping: false }],
      work: [{ process: view.identity, thread: 'b6t', queue: 'default', run_at: 1795872489, jid: '7f75ca856741848bb60bc5ac' }],
      workers_size: 1,
      processes_size: 1,
    });

    ruby(`Sidekiq::ProcessSet.new.each { |p| p.quiet! }; puts "{}"`);
    await until(() => view.calls.includes('quiet'), 'the TSTP sent by Process#quiet!');
    await until(() => (ruby(`puts JSON.generate({ "s" => Sidekiq::ProcessSet.new.map(&:stopping?) })`).s as boolean[])[0] === true, 'Process#stopping? to read true');
  });
});
