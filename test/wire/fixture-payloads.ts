/**
 * Every job payload the captured fixtures hold, with the peer that wrote it: members of LPUSH,
 * RPUSH, ZADD and LREM in `commands` and `lua_commands`, and list/zset members in `state` and
 * each checkpoint's state. Reads the project's copy under fixtures/ (format: FORMAT.md).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Peer } from '../../src/wire/index.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES_DIR = join(ROOT, 'fixtures');

type Value = string | { base64: string };
interface RawFixture {
  system: string;
  version: string;
  scenario: string;
  commands: Array<{ argv: Value[] }>;
  lua_commands?: Array<{ argv: Value[] }>;
  state: Record<string, { type: string; value: unknown }>;
  checkpoints?: Array<{ state: RawFixture['state'] }>;
}

export interface FixturePayload {
  /** `sidekiq-6.4.1/push-simple.json` */
  file: string;
  system: string;
  version: string;
  scenario: string;
  /** Where it was found: `commands LPUSH queue:default`, `state retry`, ... */
  where: string;
  /** The member's bytes as stored in Redis. */
  bytes: Buffer;
}

function bytesOf(v: Value): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.base64, 'base64');
}

function commandMembers(argv: Value[]): Array<{ key: string; member: Value }> {
  const op = String(argv[0]).toUpperCase();
  const key = String(argv[1]);
  if (op === 'LPUSH' || op === 'RPUSH') return argv.slice(2).map((member) => ({ key, member }));
  if (op === 'LREM' && argv[3] !== undefined) return [{ key, member: argv[3] }];
  if (op === 'ZADD') {
    let rest = argv.slice(2);
    while (rest.length && typeof rest[0] === 'string' && /^(NX|XX|GT|LT|CH|INCR)$/i.test(rest[0])) rest = rest.slice(1);
    const out: Array<{ key: string; member: Value }> = [];
    for (let i = 0; i + 1 < rest.length; i += 2) out.push({ key, member: rest[i + 1]! });
    return out;
  }
  return [];
}

/** `<system>-<version>/<scenario>.json` files (not the malformed corpus, which is raw payloads). */
function fixtureFiles(dir: string): string[] {
  const out: string[] = [];
  for (const set of readdirSync(dir).sort()) {
    const setDir = join(dir, set);
    if (set === 'malformed' || !statSync(setDir).isDirectory()) continue;
    for (const name of readdirSync(setDir).sort()) if (name.endsWith('.json')) out.push(join(setDir, name));
  }
  return out;
}

let cache: FixturePayload[] | undefined;

/** Every payload of every fixture, in file order (duplicates kept: each occurrence is a case). */
export function fixturePayloads(): FixturePayload[] {
  if (cache) return cache;
  const out: FixturePayload[] = [];
  for (const path of fixtureFiles(FIXTURES_DIR)) {
    const f = JSON.parse(readFileSync(path, 'utf8')) as RawFixture;
    const file = path.slice(FIXTURES_DIR.length + 1);
    // Resque: `failed` holds failure records, not jobs; malformed-job-shapes are shapes a raw
    // client pushed (Resque's producer never writes them). test/wire/resque.test.ts covers both.
    if (f.system === 'resque' && f.scenario === 'malformed-job-shapes') continue;
    const push = (where: string, member: Value): void => {
      if (/(^|:)failed$/.test(where.split(' ').at(-1) ?? '')) return;
      out.push({ file, system: f.system, version: f.version, scenario: f.scenario, where, bytes: bytesOf(member) });
    };
    for (const src of ['commands', 'lua_commands'] as const) {
      for (const c of f[src] ?? []) for (const { key, member } of commandMembers(c.argv)) push(`${src} ${String(c.argv[0])} ${key}`, member);
    }
    const states = [f.state, ...(f.checkpoints ?? []).map((c) => c.state)];
    for (const state of states) {
      for (const [key, entry] of Object.entries(state ?? {})) {
        if (entry.type === 'list') for (const m of entry.value as Value[]) push(`state ${key}`, m);
        if (entry.type === 'zset') for (const [m] of entry.value as Array<[Value, number]>) push(`state ${key}`, m);
      }
    }
  }
  cache = out;
  return out;
}

/** The payloads that are JSON objects (job hashes), with their text. */
export function jobPayloads(): Array<FixturePayload & { text: string }> {
  return fixturePayloads().flatMap((p) => {
    const text = p.bytes.toString('utf8');
    if (!text.startsWith('{')) return [];
    try {
      const v: unknown = JSON.parse(text);
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? [{ ...p, text }] : [];
    } catch {
      return [];
    }
  });
}

/** The peer a fixture's system/version writes as. */
export function peerOf(system: string, version: string): Peer {
  if (system === 'verk') return 'verk';
  if (system === 'exq') return 'exq';
  if (system === 'resque') return 'resque';
  const major = Number(version.split('.')[0]);
  return major >= 8 ? 'sidekiq8' : major === 7 ? 'sidekiq7' : 'sidekiq6';
}

/** One fixture file, parsed. */
export function loadFixture(file: string): RawFixture {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, file), 'utf8')) as RawFixture;
}

/** The distinct payload texts of a fixture that went to `key` via `op` in `commands` (e.g. LPUSH queue:default). */
export function commandPayloads(file: string, op: string, key: string): string[] {
  const f = loadFixture(file);
  const out: string[] = [];
  for (const c of [...f.commands, ...(f.lua_commands ?? [])]) {
    if (String(c.argv[0]).toUpperCase() !== op.toUpperCase() || c.argv[1] !== key) continue;
    for (const m of commandMembers(c.argv)) {
      const t = bytesOf(m.member).toString('utf8');
      if (!out.includes(t)) out.push(t);
    }
  }
  return out;
}

/** `[score, member]` pairs a fixture ZADDed to `key` (in `commands` and `lua_commands`), in order. */
export function zaddEntries(file: string, key: string): Array<[number, string]> {
  const f = loadFixture(file);
  const out: Array<[number, string]> = [];
  for (const c of [...f.commands, ...(f.lua_commands ?? [])]) {
    if (String(c.argv[0]).toUpperCase() !== 'ZADD' || c.argv[1] !== key) continue;
    for (let i = 2; i + 1 < c.argv.length; i += 2) out.push([Number(c.argv[i]), bytesOf(c.argv[i + 1]!).toString('utf8')]);
  }
  return out;
}
