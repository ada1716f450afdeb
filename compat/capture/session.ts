/**
 * One capture session: a private redis-server under MONITOR, the harness's own connection
 * (whose traffic is left out of the fixture), and the actions a scenario takes, each logged as
 * an event on the same clock as the MONITOR timestamps. `finish()` returns the fixture in the
 * format of shared/fixtures/FORMAT.md.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import {
  API_RB, JOBS_RB, PRODUCER_RB, runRubyApi, runRubyProducer, startSidekiq, toRubyJson, waitFor,
  type ApiOp, type ApiResults, type ProducerOp, type SidekiqProcess, type StartSidekiqOptions,
} from '../live/sidekiq.js';
import { dumpState, type DbState } from './dump.js';
import { startMonitor, type MonitorHandle, type MonitoredCommand, type WireValue } from './monitor.js';

// Microsecond-ish epoch seconds, on the same clock as the MONITOR timestamps.
const now = () => (performance.timeOrigin + performance.now()) / 1000;

export interface Fixture {
  system: 'sidekiq';
  version: string;
  runtime: string;
  redis: string;
  scenario: string;
  description: string;
  code: string;
  started_at: number;
  commands: Array<{ t: number; db: number; argv: WireValue[] }>;
  state: DbState;
  lua_commands?: Array<{ t: number; db: number; argv: WireValue[] }>;
  events?: Array<Record<string, unknown>>;
  checkpoints?: Array<{ t: number; label: string; state: DbState }>;
  notes: string;
}

/** The placeholder FORMAT.md asks for in place of a SCRIPT LOAD body. */
function scriptPlaceholder(body: string): string {
  const sha = createHash('sha1').update(body).digest('hex');
  const what = /zrangebyscore/i.test(body) && /zrem/i.test(body)
    ? "Sidekiq's scheduled/retry pop script: ZRANGEBYSCORE -inf now LIMIT 0 1 on KEYS[1] with ARGV[1] = now, then ZREM of the member found, returning it"
    : 'a Lua script';
  return `<lua script body omitted: ${what}; sha1=${sha}>`;
}

export class CaptureSession {
  readonly events: Array<Record<string, unknown>> = [];
  readonly checkpoints: Array<{ t: number; label: string; state: DbState }> = [];
  /** The inputs the Ruby scripts were given, in order, for the fixture's `code`. */
  readonly inputs: string[] = [];
  usedServer = false;
  private sentinel = 0;

  private constructor(
    readonly server: RedisServerHandle,
    /** The harness's own connection: left out of `commands`. */
    readonly redis: Redis,
    private readonly harnessSource: string,
    private readonly monitor: MonitorHandle,
    readonly startedAt: number,
  ) {}

  static async open(): Promise<CaptureSession> {
    const server = await startRedisServer();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    await redis.ping();
    await redis.flushall();
    const source = `${redis.stream.localAddress}:${redis.stream.localPort}`;
    const monitor = await startMonitor('127.0.0.1', server.port);
    return new CaptureSession(server, redis, source, monitor, now());
  }

  get url(): string {
    return this.server.url;
  }

  event(event: string, extra: Record<string, unknown> = {}): void {
    this.events.push({ t: now(), event, ...extra });
  }

  async checkpoint(label: string): Promise<void> {
    this.checkpoints.push({ t: now(), label, state: await dumpState(this.redis) });
  }

  async producer(ops: ProducerOp[] | string): Promise<Array<string | null>> {
    const input = typeof ops === 'string' ? ops : toRubyJson(ops);
    this.inputs.push(`# ruby compat/ruby/producer.rb <<'JSON'\n${input}\nJSON`);
    this.event('start ruby compat/ruby/producer.rb');
    const jids = await runRubyProducer(this.url, input);
    this.event('ruby compat/ruby/producer.rb exited', { status: 0, jids });
    return jids;
  }

  async api<O extends ApiOp>(op: O): Promise<ApiResults[O['op']]> {
    this.inputs.push(`# ruby compat/ruby/api.rb <<< '${JSON.stringify(op)}'`);
    this.event(`start ruby compat/ruby/api.rb (${op.op})`);
    const result = await runRubyApi(this.url, op);
    this.event(`ruby compat/ruby/api.rb exited (${op.op})`, { status: 0 });
    return result;
  }

  async startSidekiq(opts: Omit<StartSidekiqOptions, 'redisUrl' | 'pollWith'>): Promise<SidekiqProcess> {
    this.usedServer = true;
    const queues = opts.queues.map((q) => (typeof q === 'string' ? q : `${q[0]},${q[1]}`));
    const cmd = `sidekiq -r compat/ruby/jobs.rb ${queues.map((q) => `-q ${q}`).join(' ')} -c ${opts.concurrency}${opts.shutdownTimeoutS !== undefined ? ` -t ${opts.shutdownTimeoutS}` : ''}`;
    const t = now();
    const proc = await startSidekiq({ ...opts, redisUrl: this.url, pollWith: this.redis });
    this.events.push({ t, event: `spawned ${cmd}`, pid: proc.pid });
    this.event('observed: first heartbeat (identity in processes)', { identity: proc.identity, boot_ms: proc.bootMs });
    return proc;
  }

  async stopSidekiq(proc: SidekiqProcess): Promise<void> {
    this.event('SIGTERM sent', { pid: proc.pid });
    await proc.stop();
    this.event('sidekiq process exited', { pid: proc.pid, status: proc.process.exitCode, signal: proc.process.signalCode });
  }

  /** Polls with the harness connection until `fn` gives a value; logs it as an observation. */
  async until<T>(what: string, fn: (redis: Redis) => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
    const value = await waitFor(() => fn(this.redis), { what, timeoutMs });
    this.event(`observed: ${what}`);
    return value;
  }

  async finish(meta: { scenario: string; description: string; steps: string; notes: string }): Promise<Fixture> {
    // A sentinel from the harness connection proves MONITOR has delivered everything before it.
    const mark = `kiqgate-capture-end-${++this.sentinel}`;
    await this.redis.echo(mark);
    await this.monitor.seen((c) => c.argv[0] === 'echo' && c.argv[1] === mark);
    this.monitor.stop();
    const state = await dumpState(this.redis);
    const own = (c: MonitoredCommand) => c.source === this.harnessSource;
    const strip = (c: MonitoredCommand) => {
      const argv = [...c.argv];
      if (String(argv[0]).toLowerCase() === 'script' && String(argv[1]).toLowerCase() === 'load' && typeof argv[2] === 'string') {
        argv[2] = scriptPlaceholder(argv[2]);
      }
      return { t: c.t, db: c.db, argv };
    };
    const all = this.monitor.commands.filter((c) => !own(c));
    const lua = all.filter((c) => c.source === 'lua').map(strip);
    const fixture: Fixture = {
      system: 'sidekiq',
      version: rubyPrint('require "sidekiq"; print Sidekiq::VERSION'),
      runtime: `ruby ${rubyPrint('print RUBY_VERSION')}`,
      redis: (await this.redis.info('server')).match(/redis_version:(\S+)/)?.[1] ?? 'unknown',
      scenario: meta.scenario,
      description: meta.description,
      code: this.code(meta.steps),
      started_at: this.startedAt,
      commands: all.filter((c) => c.source !== 'lua').map(strip),
      state,
      ...(lua.length ? { lua_commands: lua } : {}),
      ...(this.events.length ? { events: this.events } : {}),
      ...(this.checkpoints.length ? { checkpoints: this.checkpoints } : {}),
      notes: meta.notes,
    };
    return fixture;
  }

  async close(): Promise<void> {
    this.monitor.stop();
    this.redis.disconnect();
    await this.server.stop();
  }

  private code(steps: string): string {
    const files = [...(this.usedServer ? [JOBS_RB] : []), PRODUCER_RB, ...(this.inputs.some((i) => i.includes('api.rb')) ? [API_RB] : [])];
    const sources = files.map((f) => `# ==> compat/ruby/${f.split('/').pop()} <==\n${readFileSync(f, 'utf8')}`);
    return [...sources, `# ==> script inputs, in order <==\n${this.inputs.join('\n')}`, `# ==> harness steps <==\n${steps}`].join('\n');
  }
}

function rubyPrint(code: string): string {
  return spawnSync('ruby', ['-e', code], { encoding: 'utf8' }).stdout.trim();
}
