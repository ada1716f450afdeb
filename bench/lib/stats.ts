/** Small statistics helpers for the summary table. */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function minMax(xs: readonly number[]): [number, number] {
  return [Math.min(...xs), Math.max(...xs)];
}

/** Compact number: 3 significant figures, thousands as "k". */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const abs = Math.abs(x);
  if (abs >= 100_000) return `${Math.round(x / 1000)}k`;
  if (abs >= 10_000) return `${(x / 1000).toFixed(1)}k`;
  if (abs >= 100) return String(Math.round(x));
  if (abs >= 10) return x.toFixed(1);
  return x.toFixed(2);
}
