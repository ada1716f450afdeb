/**
 * Regenerates the README's producer × consumer table (between `<!-- pairs:start -->` and
 * `<!-- pairs:end -->`) from the wire code itself: for every dialect's client (a fresh job with
 * its defaults, as `Client` writes it) and every runtime kiqgate can stand in for (`--peer`),
 * where the first failure of a handler lands and what the entry keeps. `kiqgate compat` holds
 * the same entries to the consumers' captured ones (the `mixed/` scenarios).
 *
 *   npx tsx compat/gen-pairs-table.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIALECTS, decodeJob, failureOutcome, normalizeJob, parseObject, type Peer } from '../src/wire/index.js';

const README = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'README.md');
const NOW = Date.UTC(2026, 11, 8, 12, 0, 0);

/** The runtime's name as the README spells it (`Sidekiq 7.x`, `Verk 1.7`). */
function title(peer: Peer): string {
  const { family, versions } = DIALECTS.find((d) => d.peer === peer)!.traits;
  return `${family[0]!.toUpperCase()}${family.slice(1)} ${versions.split('|').join('/')}`;
}

function cell(producer: Peer, consumer: Peer): string {
  const job = decodeJob(normalizeJob({ class: 'HardJob', args: [1, 'two'], queue: 'default' }, producer, { now: NOW }).payload);
  const out = failureOutcome(job, 'default', { errorMessage: 'boom', errorClass: 'RuntimeError' }, NOW, { defaultMaxRetries: 25, consumer });
  if (out.kind === 'drop') return `dropped (${out.reason})`;
  const entry = parseObject(out.payload);
  const where = out.kind === 'failed-list' ? '`failed`' : `\`${out.kind}\``;
  const kept = job.doc().keys().filter((k) => entry.has(k)).length;
  const keys = `${entry.keys().length} keys`;
  return `${where}, ${keys}${out.kind === 'failed-list' ? ', job as payload' : `, ${kept}/${job.doc().keys().length} of the job's`}`;
}

function table(): string {
  const peers = DIALECTS.map((d) => d.peer);
  const head = `| producer ↓ · kiqgate \`--peer\` → | ${peers.map(title).join(' | ')} |\n|---|${peers.map(() => '---').join('|')}|`;
  const rows = peers.map((p) => `| ${title(p)} | ${peers.map((c) => cell(p, c)).join(' | ')} |`);
  return [head, ...rows].join('\n');
}

const text = readFileSync(README, 'utf8');
const start = '<!-- pairs:start -->';
const end = '<!-- pairs:end -->';
const a = text.indexOf(start);
const b = text.indexOf(end);
if (a < 0 || b < a) {
  process.stderr.write(`gen-pairs-table: ${README} has no ${start} ... ${end} section\n`);
  process.exit(1);
}
writeFileSync(README, `${text.slice(0, a + start.length)}\n${table()}\n${text.slice(b)}`);
process.stderr.write('gen-pairs-table: README.md table regenerated\n');
