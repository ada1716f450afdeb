/**
 * Captures new Sidekiq 6.4.1 fixtures from the real thing, in the format of
 * shared/fixtures/FORMAT.md, into fixtures/sidekiq-6.4.1-kiqgate/<scenario>.json.
 *
 *   npx tsx compat/capture/capture.ts                 # every scenario
 *   npx tsx compat/capture/capture.ts worker-invalid-json api-retry-all
 *   npx tsx compat/capture/capture.ts --list
 *
 * Each scenario gets its own private redis-server (FLUSHALL, then MONITOR), runs real Ruby
 * processes (compat/ruby/*.rb), and ends with a full key dump. Needs Ruby Sidekiq
 * (compat/install-ruby-sidekiq.sh) and redis-server.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPAT_DIR, requireRubySidekiq } from '../live/sidekiq.js';
import { COMMON_NOTES, SCENARIOS } from './scenarios.js';
import { CaptureSession } from './session.js';

export const OUT_DIR = join(COMPAT_DIR, '..', 'fixtures', 'sidekiq-6.4.1-kiqgate');

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--list')) {
    for (const s of SCENARIOS) console.log(`${s.name}\t${s.description}`);
    return;
  }
  const version = requireRubySidekiq();
  if (version !== '6.4.1') throw new Error(`compat/capture writes sidekiq-6.4.1 fixtures, but sidekiq ${version} is installed`);
  const unknown = argv.filter((a) => !SCENARIOS.some((s) => s.name === a));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (see --list)`);
  const chosen = argv.length ? SCENARIOS.filter((s) => argv.includes(s.name)) : SCENARIOS;
  mkdirSync(OUT_DIR, { recursive: true });
  for (const scenario of chosen) {
    const session = await CaptureSession.open();
    try {
      await scenario.run(session);
      const fixture = await session.finish({
        scenario: scenario.name,
        description: scenario.description,
        steps: scenario.steps,
        notes: COMMON_NOTES + scenario.notes,
      });
      const file = join(OUT_DIR, `${scenario.name}.json`);
      writeFileSync(file, `${JSON.stringify(fixture, null, 2)}\n`);
      console.log(`${scenario.name}: ${fixture.commands.length} commands, ${Object.keys(fixture.state).length} keys -> ${file}`);
    } finally {
      await session.close();
    }
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});
