/** Tests read the project's own copy of the captured fixtures (fixtures/, format in FORMAT.md). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Fixture, type FixtureCommand, valueText } from '../../src/compat/fixture.js';

export type { Fixture, FixtureCommand };
export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

export function loadFixture(set: string, scenario: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, set, `${scenario}.json`), 'utf8')) as Fixture;
}

/** argv of a command as strings. */
export function argvStrings(c: FixtureCommand): string[] {
  return c.argv.map(valueText);
}
