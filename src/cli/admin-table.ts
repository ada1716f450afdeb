/**
 * Plain aligned columns for people (no borders, so output stays greppable and pastes cleanly):
 * a header row, then one row per item, each column padded to its widest cell. A cell is cut at
 * `maxWidth` characters and control characters are shown escaped, so one entry is one line.
 */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, maxWidth = 60): string {
  const clean = (s: string) => {
    const one = s.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
    return one.length > maxWidth ? `${one.slice(0, maxWidth - 1)}…` : one;
  };
  const all = [header, ...rows].map((r) => r.map(clean));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** An epoch-ms time as `2026-12-07 22:20:41Z`, or `-`. */
export function when(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '-' : `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** A number of seconds, to the millisecond. */
export function seconds(s: number): string {
  return s.toFixed(3);
}
