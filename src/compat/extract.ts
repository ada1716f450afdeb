/**
 * What a fixture contains, derived from its own content (so a fixture nobody has seen is
 * exercised as fully as a shipped one): the job payloads it holds, the pushes its producer made,
 * the jobs left queued, and the retry/dead/schedule entries the peer wrote.
 */
import { type DecodedJob, type Peer, decodeJob, dialectFor, dialectOfRelease } from '../wire/index.js';
import { type Fixture, type FixtureCommand, type FixtureState, valueBytes, valueText } from './fixture.js';

/** One job payload seen in a fixture, as bytes, with where it was seen. */
export interface SeenPayload {
  bytes: Buffer;
  /** e.g. `commands: lpush queue:default` or `state: retry`. */
  where: string;
  /** The key it was written to or found under. */
  key: string;
}

/** Keys that hold job payloads: queues, in-progress/backup lists, schedule/retry/dead sets. */
export function isJobKey(key: string): boolean {
  return /(^|:)queue:/.test(key) || /(^|:)(schedule|retry|dead)$/.test(key) || /(^|:)inprogress:/.test(key);
}

const ZADD_FLAGS = new Set(['nx', 'xx', 'gt', 'lt', 'ch', 'incr']);

/** Members written by one command (LPUSH/RPUSH values, ZADD members), with their scores for ZADD. */
export function writtenMembers(c: FixtureCommand): Array<{ key: string; member: Buffer; score?: string }> {
  const name = valueText(c.argv[0]!).toLowerCase();
  const key = c.argv[1] === undefined ? '' : valueText(c.argv[1]);
  if (name === 'lpush' || name === 'rpush') return c.argv.slice(2).map((v) => ({ key, member: valueBytes(v) }));
  if (name === 'zadd') {
    let i = 2;
    while (i < c.argv.length && ZADD_FLAGS.has(valueText(c.argv[i]!).toLowerCase())) i++;
    const out: Array<{ key: string; member: Buffer; score: string }> = [];
    for (; i + 1 < c.argv.length; i += 2) out.push({ key, score: valueText(c.argv[i]!), member: valueBytes(c.argv[i + 1]!) });
    return out;
  }
  return [];
}

function stateMembers(state: FixtureState, label: string): SeenPayload[] {
  const out: SeenPayload[] = [];
  for (const [key, dump] of Object.entries(state)) {
    if (!isJobKey(key)) continue;
    if (dump.type === 'list' && Array.isArray(dump.value)) {
      for (const v of dump.value) out.push({ bytes: valueBytes(v as string), where: `${label}: ${key}`, key });
    } else if (dump.type === 'zset' && Array.isArray(dump.value)) {
      for (const pair of dump.value as Array<[string, number]>) out.push({ bytes: valueBytes(pair[0]), where: `${label}: ${key}`, key });
    }
  }
  return out;
}

/**
 * Every distinct job payload in the fixture: LPUSH/RPUSH/ZADD members in `commands` and
 * `lua_commands` (to job keys), and list/zset members in `state` and `checkpoints`.
 */
export function jobPayloads(f: Fixture): SeenPayload[] {
  const all: SeenPayload[] = [];
  for (const [label, cmds] of [['commands', f.commands], ['lua_commands', f.lua_commands ?? []]] as const) {
    for (const c of cmds) {
      for (const m of writtenMembers(c)) {
        if (isJobKey(m.key)) all.push({ bytes: m.member, where: `${label}: ${valueText(c.argv[0]!).toLowerCase()} ${m.key}`, key: m.key });
      }
    }
  }
  all.push(...stateMembers(f.state, 'state'));
  for (const cp of f.checkpoints ?? []) all.push(...stateMembers(cp.state, `checkpoint ${cp.label}`));
  const seen = new Set<string>();
  return all.filter((p) => {
    const id = p.bytes.toString('base64');
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** A push the peer's producer made: the commands it sent, and the jobs (with run times) in it. */
export interface ProducerPush {
  commands: FixtureCommand[];
  jobs: Array<{ payload: Buffer; queueKey: string; score?: string }>;
}

/**
 * The producer pushes in a fixture's top-level commands: Sidekiq's `SADD queues` followed by the
 * LPUSH(es) of the same push, a lone LPUSH to a queue (Verk), or a `ZADD schedule`. For Exq, whose
 * client pushes through a Lua script, the same groups are read from `lua_commands` (the writes
 * the script made). Retry and dead writes, requeues (RPUSH) and moves are not pushes.
 */
export function producerPushes(f: Fixture): ProducerPush[] {
  // A mixed scenario's pushes are its producer's.
  const writer = f.producer ?? f;
  const dialect = dialectOfRelease(writer.system, writer.version);
  const source = dialect?.pushesThroughScript ? (f.lua_commands ?? []) : f.commands;
  // A client that sends SADD queues before its list push (Sidekiq's) never sends a lone one;
  // one that never touches `queues` (Verk's) pushes with the list push alone.
  const loneLpushIsPush = dialect !== undefined && !dialect.traits.addsToQueuesSet;
  // The list push at the producer's end: LPUSH (Sidekiq, Verk, Exq) or RPUSH (Resque).
  const push = dialect?.queueEnds.push === 'tail' ? 'rpush' : 'lpush';
  const pushes: ProducerPush[] = [];
  let open: ProducerPush | undefined;
  for (const c of source) {
    const name = valueText(c.argv[0]!).toLowerCase();
    const key = c.argv[1] === undefined ? '' : valueText(c.argv[1]);
    if (name === 'sadd' && /(^|:)queues$/.test(key)) {
      open = { commands: [c], jobs: [] };
      pushes.push(open);
      continue;
    }
    if (name === push && /(^|:)queue:/.test(key) && !/backup::/.test(key)) {
      const jobs = writtenMembers(c).map((m) => ({ payload: m.member, queueKey: m.key }));
      if (open) {
        open.commands.push(c);
        open.jobs.push(...jobs);
      } else if (loneLpushIsPush) {
        pushes.push({ commands: [c], jobs });
      }
      continue;
    }
    open = undefined;
    if (name === 'zadd' && /(^|:)schedule$/.test(key)) {
      pushes.push({ commands: [c], jobs: writtenMembers(c).map((m) => ({ payload: m.member, queueKey: m.key, score: m.score! })) });
    }
  }
  // Sidekiq ≤ 7 sends one SADD+LPUSH pair per push; a pair is complete when it has its LPUSH.
  return pushes.filter((p) => p.jobs.length > 0);
}

/** Jobs left waiting in queue lists in the final state (what a worker would run next). */
export function queuedJobs(state: FixtureState): Array<{ key: string; payload: Buffer }> {
  const out: Array<{ key: string; payload: Buffer }> = [];
  for (const [key, dump] of Object.entries(state)) {
    if (dump.type !== 'list' || !/(^|:)queue:/.test(key) || /backup::/.test(key)) continue;
    for (const v of dump.value as string[]) out.push({ key, payload: valueBytes(v) });
  }
  return out;
}

/** A member written to a key, with when (the command's time; state-only members have none). */
export interface Written { key: string; bytes: Buffer; score?: string; t?: number }

/** Every member written by LPUSH/RPUSH/ZADD in commands and lua_commands, in time order. */
export function writes(f: Fixture): Written[] {
  const all: Array<{ c: FixtureCommand; lua: boolean }> = [
    ...f.commands.map((c) => ({ c, lua: false })),
    ...(f.lua_commands ?? []).map((c) => ({ c, lua: true })),
  ].sort((a, b) => a.c.t - b.c.t);
  const out: Written[] = [];
  for (const { c } of all) {
    for (const m of writtenMembers(c)) {
      const w: Written = { key: m.key, bytes: m.member, t: c.t };
      if (m.score !== undefined) w.score = m.score;
      out.push(w);
    }
  }
  return out;
}

/**
 * The job a payload holds, or undefined when it is not a decodable job (no size limit: fixtures
 * are data), read as a worker standing in for `peer` reads it ({@link decodeAs}).
 */
export function decodeOrUndefined(bytes: Buffer, peer?: Peer): DecodedJob | undefined {
  try {
    return decodeAs(bytes, peer);
  } catch {
    return undefined;
  }
}

/**
 * Decodes as a worker standing in for `peer` reads a payload: its dialect's own reading when it
 * has one (Resque's lenient reading), else by the producer's detected dialect. Throws WireError.
 */
export function decodeAs(bytes: Buffer, peer?: Peer): DecodedJob {
  const read = peer === undefined ? undefined : dialectFor(peer).read;
  return read ? read(bytes, { maxBytes: 0 }) : decodeJob(bytes, { maxBytes: 0 });
}
