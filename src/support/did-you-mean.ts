/** "did you mean X?" for a mistyped name: the closest known one, when it is close enough. */

/** Edit distance (insertions, deletions, substitutions) between two short strings. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known name closest to `name` (case-insensitive), or undefined when none is within a third of its length. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  const n = name.toLowerCase();
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(n.length / 3)) + 1;
  for (const k of known) {
    const d = distance(n, k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}
