/**
 * Prints the top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`), and the
 * share of idle, GC and program time: `npx tsx bench/profile/summarize.ts <file> [top]`.
 */
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number; children?: number[] }
const prof = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const top = Number(process.argv[3] ?? 30);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
const total = prof.samples.length;
for (const id of prof.samples) {
  const n = byId.get(id)!;
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(main\/)?/, '')}:${f.lineNumber + 1}` : '';
  const key = `${f.functionName || '(anonymous)'} ${where}`;
  self.set(key, (self.get(key) ?? 0) + 1);
}
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
console.log(`samples ${total}`);
for (const [k, v] of rows) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
// Per-package share of self time.
const pkg = new Map<string, number>();
for (const id of prof.samples) {
  const u = byId.get(id)!.callFrame.url;
  const p = /node_modules\/([^/]+)/.exec(u)?.[1] ?? (u.startsWith('node:') ? 'node:' + u.slice(5).split('/')[0] : u ? 'app' : byId.get(id)!.callFrame.functionName);
  pkg.set(p, (pkg.get(p) ?? 0) + 1);
}
console.log('--- by package');
for (const [k, v] of [...pkg.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
// Optional: per-line self ticks of one function (`summarize.ts <file> <top> <functionName>`).
const fn = process.argv[4];
if (fn) {
  const lines = new Map<number, number>();
  for (const n of prof.nodes as Array<Node & { positionTicks?: Array<{ line: number; ticks: number }> }>) {
    if (n.callFrame.functionName !== fn) continue;
    for (const t of n.positionTicks ?? []) lines.set(t.line, (lines.get(t.line) ?? 0) + t.ticks);
  }
  console.log(`--- lines of ${fn}`);
  for (const [l, t] of [...lines.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${String(t).padStart(6)}  line ${l}`);
}
