/**
 * The captured-fixture format (fixtures/FORMAT.md): one scenario run against a real Sidekiq,
 * Verk or Exq on a real Redis, with every command (MONITOR), what ran inside Lua, and the keys
 * left behind. Values that are not UTF-8 are `{ "base64": "..." }`.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DIALECTS, type Peer, dialectOfRelease } from '../wire/index.js';

export type FixtureValue = string | { base64: string };
export interface FixtureCommand { t: number; db?: number; argv: FixtureValue[] }
export interface KeyDump { type: string; ttl_ms: number; value: unknown }
export type FixtureState = Record<string, KeyDump>;

export interface Fixture {
  system: string;
  version: string;
  runtime?: string;
  redis?: string;
  scenario: string;
  description?: string;
  code?: string;
  started_at?: number;
  commands: FixtureCommand[];
  lua_commands?: FixtureCommand[];
  state: FixtureState;
  events?: Array<{ t: number; event: string; [k: string]: unknown }>;
  checkpoints?: Array<{ t: number; label: string; state: FixtureState }>;
  /** Versions of the libraries the system ran on (ActiveJob: activejob, sidekiq, globalid, ...). */
  libraries?: Record<string, unknown>;
  notes?: string;
  /**
   * A mixed scenario (src/compat/mixed.ts): the jobs were written by this runtime's producer and
   * are consumed by `system`/`version`. Absent: the fixture's own system wrote them.
   */
  producer?: { system: string; version: string };
  /** A mixed scenario: the failure entry the consumer itself wrote for one of its own jobs, as captured. */
  consumerFailure?: { key: string; entry: string; score?: string };
}

/** A fixture plus where it came from (`<dir>/<scenario>`, used as the report's name). */
export interface LoadedFixture {
  name: string;
  path: string;
  fixture: Fixture;
}

/** Bytes of a fixture value. */
export function valueBytes(v: FixtureValue): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.base64, 'base64');
}

/** Text of a fixture value (non-UTF-8 values as latin1, for display and command names only). */
export function valueText(v: FixtureValue): string {
  return typeof v === 'string' ? v : Buffer.from(v.base64, 'base64').toString('latin1');
}

/** Reads one fixture file; throws an Error naming the file and the problem when it is not one. */
export function readFixture(path: string, root: string): LoadedFixture {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not a JSON file (${(err as Error).message})`);
  }
  const f = data as Partial<Fixture>;
  for (const field of ['system', 'version', 'scenario'] as const) {
    if (typeof f[field] !== 'string') throw new Error(`${path}: not a fixture: '${field}' must be a string`);
  }
  if (!Array.isArray(f.commands)) throw new Error(`${path}: not a fixture: 'commands' must be an array`);
  if (f.state === null || typeof f.state !== 'object') throw new Error(`${path}: not a fixture: 'state' must be an object`);
  const rel = relative(root, path).replace(/\.json$/, '');
  return { name: rel.includes('/') ? rel : `${f.system}-${f.version}/${f.scenario}`, path, fixture: f as Fixture };
}

/** Every `*.json` fixture below `dir`, recursively (FORMAT.md, index.json and other files skipped). */
export function findFixtureFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) {
      if (name !== 'node_modules' && name !== 'malformed') out.push(...findFixtureFiles(p));
    } else if (name.endsWith('.json') && name !== 'index.json' && name !== 'package.json') {
      out.push(p);
    }
  }
  return out;
}

/** The dialect that system/version writes, or undefined when kiqgate does not speak it. */
export function peerFor(system: string, version: string): Peer | undefined {
  return dialectOfRelease(system, version)?.peer;
}

/** The dialect a fixture's system/version writes, or undefined for a system or version kiqgate does not speak. */
export function expectedPeer(f: Fixture): Peer | undefined {
  if (f.system.toLowerCase() === 'activejob') return activeJobPeer(f);
  return peerFor(f.system, f.version);
}

/** ActiveJob releases kiqgate reads (Rails 6.1 to 8.1), over the Sidekiq its `libraries` name. */
const ACTIVEJOB_LINES = /^(6\.1|7\.[0-2]|8\.[01])(\.|$)/;

/** ActiveJob over Sidekiq: the dialect of the Sidekiq it travels in, when kiqgate speaks both. */
function activeJobPeer(f: Fixture): Peer | undefined {
  const sidekiq = f.libraries?.sidekiq;
  if (!ACTIVEJOB_LINES.test(f.version) || typeof sidekiq !== 'string') return undefined;
  return peerFor('sidekiq', sidekiq);
}

/** The dialect that wrote the fixture's jobs: its producer's in a mixed scenario, else its own. */
export function producerPeer(f: Fixture): Peer | undefined {
  return f.producer ? peerFor(f.producer.system, f.producer.version) : expectedPeer(f);
}

/** What kiqgate speaks, from the dialects' release lines: `sidekiq 6.x/7.x/8.x, verk 1.7, exq 0.23`. */
export function spokenSystems(): string {
  const lines = new Map<string, string[]>();
  for (const { traits } of DIALECTS) lines.set(traits.family, [...(lines.get(traits.family) ?? []), traits.versions.replaceAll('|', '/')]);
  return [...lines].map(([system, versions]) => `${system} ${versions.join('/')}`).join(', ');
}

/** How FORMAT.md's systems are spelled in a message. */
const SYSTEM_NAMES: Record<string, string> = { sidekiq: 'Sidekiq', verk: 'Verk', exq: 'Exq', resque: 'Resque', activejob: 'ActiveJob' };
const systemName = (system: string) => SYSTEM_NAMES[system.toLowerCase()] ?? system;

/**
 * Why the compat suite cannot judge this fixture, or undefined when kiqgate speaks its system
 * and version. ActiveJob 6.1 to 8.1 over a Sidekiq kiqgate speaks (its `libraries` name the
 * Sidekiq) is spoken: kiqgate reads the ActiveJob layer too (wire/activejob). Any other system
 * running over one kiqgate speaks is not: kiqgate would read the envelope, not what the wrapping
 * system serialized inside it, so a check could only pass by ignoring that content.
 */
export function unspokenReason(f: Fixture): string | undefined {
  if (f.producer && !producerPeer(f)) return `kiqgate does not speak ${systemName(f.producer.system)} ${f.producer.version}, the producer of this mixed scenario (known: ${spokenSystems()})`;
  if (expectedPeer(f)) return undefined;
  if (f.system.toLowerCase() === 'activejob') {
    const over = typeof f.libraries?.sidekiq === 'string' ? ` over Sidekiq ${f.libraries.sidekiq}` : ' (no Sidekiq named in its libraries)';
    return `kiqgate does not speak ActiveJob ${f.version}${over} (known: ActiveJob 6.1 to 8.1 over ${spokenSystems().split(', ')[0]})`;
  }
  const known = `known: ${spokenSystems()}`;
  const name = `${systemName(f.system)} ${f.version}`;
  for (const [lib, version] of Object.entries(f.libraries ?? {})) {
    if (typeof version !== 'string' || !peerFor(lib, version)) continue;
    const under = `${systemName(lib)} ${version}`;
    return `${name} (over ${under}) is not spoken: kiqgate reads the ${under} job it travels in, not ${systemName(f.system)}'s own serialization of the job and its arguments inside it (${known})`;
  }
  return `kiqgate does not speak ${name} (${known})`;
}
