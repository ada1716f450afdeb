/**
 * Reading the captured fixtures (format: shared/fixtures/FORMAT.md). The project ships its own
 * copy under fixtures/; tests read that copy so they run on any clone.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

export interface FixtureCommand { t: number; db: number; argv: Array<string | { base64: string }> }
export interface Fixture {
  system: string;
  version: string;
  scenario: string;
  description: string;
  code: string;
  commands: FixtureCommand[];
  lua_commands?: FixtureCommand[];
  state: Record<string, { type: string; ttl_ms: number; value: unknown }>;
  checkpoints?: Array<{ t: number; label: string; state: Fixture['state'] }>;
  notes?: string;
}

export function loadFixture(set: string, scenario: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, set, `${scenario}.json`), 'utf8')) as Fixture;
}

/** Every fixture file below `dir`, recursively. */
export function listFixtures(dir = FIXTURES_DIR): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFixtures(p));
    else if (name.endsWith('.json') && name !== 'index.json') out.push(p);
  }
  return out.sort();
}

/** argv of a command as strings (base64 values decoded to latin1 text for display only). */
export function argvStrings(c: FixtureCommand): string[] {
  return c.argv.map((a) => (typeof a === 'string' ? a : Buffer.from(a.base64, 'base64').toString('latin1')));
}
