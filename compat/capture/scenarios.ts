/**
 * The scenarios compat/capture records from the real Sidekiq 6.4.1, for cases the shared
 * fixture set (shared/fixtures/sidekiq-6.4.1) lacks. Each one drives real Ruby processes
 * through a CaptureSession and says, in `steps`, exactly what the harness did.
 */
import type { CaptureSession } from './session.js';

export interface Scenario {
  name: string;
  description: string;
  steps: string;
  notes: string;
  run(s: CaptureSession): Promise<void>;
}

const COMMON_NOTES =
  'Captured by compat/capture (kiqgate) from a real sidekiq 6.4.1 (Debian ruby-sidekiq, redis-rb 4.8, json 2.6.1) ' +
  'on a private redis-server; commands come from a byte-exact MONITOR parse; the harness connection (FLUSHALL, ' +
  'polling, checkpoints, dump) is left out. The job classes are compat/ruby/jobs.rb, whose own writes (HINCRBY ' +
  "compat:attempts, HSET compat:received, SET compat:failonce:<jid>) appear in 'commands' and 'state' as job code. " +
  'List values are in LRANGE 0 -1 order (index 0 = head). ';

const zcard = (key: string, n: number) => async (r: import('ioredis').Redis) => (await r.zcard(key)) === n;
const statIs = (name: string, n: number) => async (r: import('ioredis').Redis) => (await r.get(`stat:${name}`)) === String(n);

/** Args a JS number cannot carry, so the producer input is raw JSON text. */
const AWKWARD_ARGS =
  '[1,1.0,4611686018427387904,-9223372036854775808,18446744073709551616,1.5e-7,1e20,-0.0,0.1,' +
  '"é😀 combining e\\u0301","ctl \\u0000 \\n \\t \\u2028 </script> \\\\ \\"q\\"",' +
  '{"nested":{"a":[null,true,false],"":{}}},[],{},' +
  `"${'x'.repeat(1000)}"]`;

export const SCENARIOS: Scenario[] = [
  {
    name: 'push-awkward-args',
    description:
      'Sidekiq::Client.push of one RecordJob (String class name) whose args hold big integers (2**62, -2**63, 2**64), ' +
      'floats written as 1.0, 1.5e-7, 1e20, -0.0 and 0.1, unicode (emoji, combining accent), control characters, ' +
      'nested and empty hashes and arrays, and a 1000-character string. No server runs.',
    steps: '# FLUSHALL; start MONITOR; `ruby compat/ruby/producer.rb` with the input above; stop MONITOR; dump keys.',
    notes:
      'Ruby JSON.parse reads 1e20 as a Float and JSON.generate writes it back as 1.0e+20; 1.5e-7 becomes 1.5e-07; ' +
      '-0.0 stays -0.0; big integers stay exact. Non-ASCII is written as raw UTF-8 (no \\u escapes) and U+2028 and ' +
      '"</script>" are not escaped; control characters are written as \\u0000, \\n, \\t. ',
    async run(s) {
      await s.producer(`[{"op":"push","class":"RecordJob","args":${AWKWARD_ARGS}}]`);
    },
  },
  {
    name: 'push-bulk-mixed',
    description:
      'Three Sidekiq::Client.push_bulk calls: mixed args (ints, 1.0, strings, nil, nested hash, an empty arg list, ' +
      '2**63) to queue "bulk" with retry: 3; two jobs with one shared `at`; two jobs with an `at` Array. No server runs.',
    steps: '# FLUSHALL; start MONITOR; `ruby compat/ruby/producer.rb` with the input above; stop MONITOR; dump keys.',
    notes:
      'push_bulk normalizes once: every job of a call shares created_at (and enqueued_at); one SADD + one LPUSH with ' +
      'all payloads for immediate jobs; one ZADD with score/member pairs for scheduled ones (the `at` of the first ' +
      'payload decides), without enqueued_at and without `at` in the member. ',
    async run(s) {
      const t = Math.floor(Date.now() / 1000) + 3600;
      await s.producer(
        '[{"op":"push_bulk","class":"RecordJob","queue":"bulk","retry":3,' +
          '"args":[[1],[1.0],["two"],[null],[{"a":{"b":[1,2]}}],[],[9223372036854775808]]},' +
          `{"op":"push_bulk","class":"RecordJob","args":[["at-shared",1],["at-shared",2]],"at":${t}.5},` +
          `{"op":"push_bulk","class":"RecordJob","args":[["at-array",1],["at-array",2]],"at":[${t + 60}.25,${t + 120}]}]`,
      );
    },
  },
  {
    name: 'worker-invalid-json',
    description:
      'A real sidekiq server fetches two payloads that are not valid JSON ("not json" and a truncated job hash), ' +
      'LPUSHed raw into queue:default by a stand-in producer, followed by a valid RecordJob as a marker.',
    steps: [
      '# 1. spawn `sidekiq -r compat/ruby/jobs.rb -q default -c 2`; wait for the first heartbeat',
      '# 2. `ruby compat/ruby/producer.rb` (raw_lpush x2 = SADD queues default + LPUSH queue:default <string>, then a RecordJob push)',
      '# 3. wait until ZCARD dead == 2, the marker is in compat:received and GET stat:processed == 1; checkpoint \'after fetch\'',
      '# 4. SIGTERM the server, wait for exit; stop MONITOR; dump keys',
    ].join('\n'),
    notes:
      'Stand-in producer: the two invalid payloads are LPUSHed raw by compat/ruby/producer.rb (raw_lpush), since ' +
      'Sidekiq::Client cannot write them. The server puts each invalid string into dead as is (score = now, float s) ' +
      'with DeadSet#kill in one MULTI (ZADD dead + ZREMRANGEBYSCORE + ZREMRANGEBYRANK), no retry, no error fields, and ' +
      'it does not count them in stat:processed or stat:failed. The ZCARD dead before each MULTI is DeadSet.new ' +
      '(SortedSet#initialize reads its size). ',
    async run(s) {
      const sk = await s.startSidekiq({ queues: ['default'], concurrency: 2, shutdownTimeoutS: 5 });
      const [marker] = await s.producer([
        { op: 'raw_lpush', queue: 'default', value: 'not json' },
        { op: 'raw_lpush', queue: 'default', value: '{"class":"RecordJob","args":[1]' },
        { op: 'push', class: 'RecordJob', args: ['marker'] },
      ]);
      await s.until('ZCARD dead == 2', zcard('dead', 2));
      await s.until('the marker job in compat:received', async (r) => (await r.hexists('compat:received', marker!)) === 1);
      await s.until('GET stat:processed == 1', statIs('processed', 1));
      await s.checkpoint('after fetch');
      await s.stopSidekiq(sk);
    },
  },
  {
    name: 'api-retry-all',
    description:
      'Two FailJob jobs (retry: 3) fail once on a real server and land in retry; the server stops; ' +
      'Sidekiq::RetrySet#retry_all (sidekiq/api) moves them back to queue:default with retry_count decremented to -1; ' +
      'a new server runs them, they fail again and return to retry with retry_count 0 and retried_at.',
    steps: [
      '# 1. spawn `sidekiq -r compat/ruby/jobs.rb -q default -c 2 -t 5`; wait for the first heartbeat',
      '# 2. `ruby compat/ruby/producer.rb` (two FailJob pushes)',
      '# 3. wait until ZCARD retry == 2 and GET stat:failed == 2; checkpoint \'two retries\'',
      '# 4. SIGTERM the server, wait for exit',
      '# 5. `ruby compat/ruby/api.rb` retry_all; checkpoint \'after retry_all\'',
      '# 6. spawn the server again; wait until ZCARD retry == 2 and GET stat:failed == 4',
      '# 7. SIGTERM the server, wait for exit; stop MONITOR; dump keys',
    ].join('\n'),
    notes:
      'retry_all in 6.4.1 loops `each(&:retry)` while size > 0: per entry a MULTI of ZRANGEBYSCORE + ZREMRANGEBYSCORE on ' +
      'the entry\'s score, then Client.push (SADD + LPUSH, new enqueued_at) of the parsed job with retry_count - 1, so a ' +
      'first-failure entry comes back with retry_count -1 and its error fields kept; the next failure makes it 0 again ' +
      '(sets retried_at, keeps failed_at). The ZCARD retry calls come from RetrySet.new and the `while size > 0` ' +
      'loop; entries are read in ZRANGE pages of 50 from the end (newest score first). ',
    async run(s) {
      let sk = await s.startSidekiq({ queues: ['default'], concurrency: 2, shutdownTimeoutS: 5 });
      await s.producer([
        { op: 'push', class: 'FailJob', args: ['a'] },
        { op: 'push', class: 'FailJob', args: ['b', 2] },
      ]);
      await s.until('ZCARD retry == 2', zcard('retry', 2));
      await s.until('GET stat:failed == 2', statIs('failed', 2));
      await s.checkpoint('two retries');
      await s.stopSidekiq(sk);
      await s.api({ op: 'retry_all' });
      await s.checkpoint('after retry_all');
      sk = await s.startSidekiq({ queues: ['default'], concurrency: 2, shutdownTimeoutS: 5 });
      await s.until('ZCARD retry == 2', zcard('retry', 2));
      await s.until('GET stat:failed == 4', statIs('failed', 4));
      await s.stopSidekiq(sk);
    },
  },
  {
    name: 'api-process-quiet-stop',
    description:
      'Sidekiq::Process#quiet! then #stop! (sidekiq/api) on a running real server: the signals go through ' +
      '<identity>-signals, the heartbeat pops them, the process turns quiet and then shuts down.',
    steps: [
      '# 1. spawn `sidekiq -r compat/ruby/jobs.rb -q default -c 2 -t 5`; wait for the first heartbeat',
      '# 2. `ruby compat/ruby/api.rb` quiet_process; wait until HGET <identity> quiet == "true"; checkpoint \'quiet\'',
      '# 3. `ruby compat/ruby/api.rb` stop_process; wait until the process exits by itself',
      '# 4. stop MONITOR; dump keys',
    ].join('\n'),
    notes:
      'The API pushes with MULTI; LPUSH <identity>-signals TSTP|TERM; EXPIRE <identity>-signals 60. Each heartbeat ' +
      '(every 5 s) ends with RPOP <identity>-signals inside its MULTI, after the HMSET, so the beat that pops TSTP ' +
      'still writes quiet "false" and the following beat writes "true" (up to about 10 s after quiet!). TERM, popped ' +
      'by the next beat, stops the process, which SREMs itself from processes and UNLINKs <identity>:workers; the ' +
      '<identity> hash is left to expire (60 s). stat:* counters are written with INCRBY 0 on every beat in 6.4. ',
    async run(s) {
      const sk = await s.startSidekiq({ queues: ['default'], concurrency: 2, shutdownTimeoutS: 5 });
      await s.api({ op: 'quiet_process', identity: sk.identity });
      await s.until('HGET <identity> quiet == "true"', async (r) => (await r.hget(sk.identity, 'quiet')) === 'true');
      await s.checkpoint('quiet');
      await s.api({ op: 'stop_process', identity: sk.identity });
      await s.until('the sidekiq process exited by itself', async () => sk.process.exitCode !== null || sk.process.signalCode !== null, 60_000);
      s.event('sidekiq process exited', { pid: sk.pid, status: sk.process.exitCode, signal: sk.process.signalCode });
      await sk.stop();
    },
  },
];

export { COMMON_NOTES };
