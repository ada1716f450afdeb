/**
 * Mixed scenarios: one runtime's producer, another's consumer on the same queue.
 *
 * Derived from the captured fixture sets themselves, so nothing is invented: for every pair of
 * spoken dialects P ≠ C, the pushes P's own client made (its fixtures' producer pushes) become a
 * scenario whose system is C, with `producer` naming P. The checks then judge each payload by P,
 * the runtime that wrote it (decode, round trip, produce), and kiqgate standing in for C must run
 * it with the args P wrote and fail it the way C does (lifecycle), held to the failure entry C
 * wrote for one of its own jobs (`consumerFailure`, copied from C's fixtures) and to what the
 * references say C does to a foreign job (foreign-failure.ts).
 */
import { decodeOrUndefined, producerPushes, writes } from './extract.js';
import { dialectFor } from '../wire/index.js';
import { type Fixture, type FixtureCommand, type LoadedFixture, expectedPeer } from './fixture.js';

/** The directory part of a loaded fixture's name (`sidekiq-7.3.10/push-simple` → `sidekiq-7.3.10`). */
const setOf = (fx: LoadedFixture) => fx.name.split('/')[0]!;

/** Whether the fixture's own client wrote this push: every job decodes, detected as the fixture's dialect. */
function ownPush(f: Fixture, payloads: Buffer[]): boolean {
  const peer = expectedPeer(f);
  return payloads.length > 0 && payloads.every((p) => {
    const job = decodeOrUndefined(p);
    return job !== undefined && peer !== undefined && job.candidates.includes(peer);
  });
}

/** The first failure entry a fixture shows the consumer writing (retry/dead member or `failed` list entry). */
function capturedFailure(f: Fixture): Fixture['consumerFailure'] {
  for (const w of writes(f)) {
    const list = /(^|:)failed$/.test(w.key);
    if (!list && !(/(^|:)(retry|dead)$/.test(w.key) && decodeOrUndefined(w.bytes)?.jid)) continue;
    const out: NonNullable<Fixture['consumerFailure']> = { key: w.key, entry: w.bytes.toString('utf8') };
    if (w.score !== undefined) out.score = w.score;
    return out;
  }
  return undefined;
}

interface FixtureSet { name: string; system: string; version: string; commands: FixtureCommand[]; lua: FixtureCommand[]; failure?: Fixture['consumerFailure'] }

/**
 * One set per dialect (the directory named for it, else the first that speaks it): its producer pushes
 * and its first captured failure entry. Fixtures already mixed are skipped.
 */
function fixtureSets(fixtures: LoadedFixture[]): FixtureSet[] {
  const byPeer = new Map<string, FixtureSet>();
  // The set named exactly `<system>-<version>` first: a set such as `sidekiq-6.4.1-kiqgate` holds
  // what kiqgate itself pushed for Sidekiq's tools to read, not Sidekiq's own client's pushes.
  const own = (fx: LoadedFixture) => (setOf(fx) === `${fx.fixture.system}-${fx.fixture.version}` ? 0 : 1);
  const ordered = [...fixtures].sort((a, b) => own(a) - own(b) || setOf(a).localeCompare(setOf(b)) || a.name.localeCompare(b.name));
  for (const fx of ordered) {
    const f = fx.fixture;
    const peer = expectedPeer(f);
    // ActiveJob rides on Sidekiq's envelope, whose pairs its own set already derives; no other runtime runs Rails jobs.
    if (!peer || f.producer || f.system.toLowerCase() === 'activejob') continue;
    let set = byPeer.get(peer);
    if (!set) byPeer.set(peer, (set = { name: setOf(fx), system: f.system, version: f.version, commands: [], lua: [] }));
    if (set.name !== setOf(fx)) continue;
    set.failure ??= capturedFailure(f);
    for (const push of producerPushes(f)) {
      if (!ownPush(f, push.jobs.map((j) => j.payload))) continue;
      // Exq's client pushes inside a Lua script: its writes are lua_commands.
      (dialectFor(peer).pushesThroughScript ? set.lua : set.commands).push(...push.commands);
    }
  }
  return [...byPeer.values()];
}

/** Every producer × consumer pair of different dialects among the loaded fixture sets. */
export function mixedScenarios(fixtures: LoadedFixture[]): LoadedFixture[] {
  const sets = fixtureSets(fixtures);
  const out: LoadedFixture[] = [];
  for (const producer of sets) {
    if (producer.commands.length + producer.lua.length === 0) continue;
    for (const consumer of sets) {
      if (consumer === producer) continue;
      const fixture: Fixture = {
        system: consumer.system,
        version: consumer.version,
        scenario: `from-${producer.name}`,
        description: `Jobs ${producer.system} ${producer.version}'s client pushed (its captured fixtures), consumed by kiqgate standing in for ${consumer.system} ${consumer.version}.`,
        producer: { system: producer.system, version: producer.version },
        commands: producer.commands,
        state: {},
      };
      if (producer.lua.length > 0) fixture.lua_commands = producer.lua;
      if (consumer.failure) fixture.consumerFailure = consumer.failure;
      out.push({ name: `mixed/${producer.name}→${consumer.name}`, path: '(derived)', fixture });
    }
  }
  return out;
}
