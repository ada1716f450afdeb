/**
 * Parsing Redis MONITOR output, byte-exact. MONITOR prints each argument in Redis's repr form
 * (`sdscatrepr`: `\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b`, `\xHH`); ioredis's monitor mode
 * does not undo that escaping, so the compat runner and the fixture capture tool both read raw
 * lines and decode them here into the exact bytes that were sent.
 */

/** One argument: UTF-8 text, or `{ base64 }` when the bytes are not valid UTF-8 (FORMAT.md). */
export type WireValue = string | { base64: string };

export interface MonitoredCommand {
  t: number;
  db: number;
  /** `127.0.0.1:<port>` of the client, or `lua` for commands run inside a script. */
  source: string;
  argv: WireValue[];
}

/** The same, with every argument as bytes. */
export interface MonitoredBytes {
  t: number;
  db: number;
  source: string;
  argv: Buffer[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes bytes as UTF-8, or gives `{ base64 }` when they are not valid UTF-8. */
export function wireValue(bytes: Buffer): WireValue {
  try {
    return utf8.decode(bytes);
  } catch {
    return { base64: bytes.toString('base64') };
  }
}

const SIMPLE_ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, a: 7, b: 8, '\\': 92, '"': 34 };

/** Parses the quoted arguments of one MONITOR line (Redis `sdscatrepr` form) into bytes. */
export function parseReprArgs(text: string): Buffer[] {
  const src = Buffer.from(text, 'latin1');
  const args: Buffer[] = [];
  let i = 0;
  while (i < src.length) {
    if (src[i] === 0x20) { i++; continue; }
    if (src[i] !== 0x22) throw new Error(`MONITOR line: expected '"' at ${i}: ${text}`);
    i++;
    const out: number[] = [];
    for (;;) {
      if (i >= src.length) throw new Error(`MONITOR line: unterminated argument: ${text}`);
      const c = src[i]!;
      if (c === 0x22) { i++; break; }
      if (c !== 0x5c) { out.push(c); i++; continue; }
      const e = String.fromCharCode(src[i + 1]!);
      if (e === 'x') {
        out.push(parseInt(String.fromCharCode(src[i + 2]!, src[i + 3]!), 16));
        i += 4;
      } else if (e in SIMPLE_ESCAPES) {
        out.push(SIMPLE_ESCAPES[e]!);
        i += 2;
      } else {
        throw new Error(`MONITOR line: unknown escape \\${e}: ${text}`);
      }
    }
    args.push(Buffer.from(out));
  }
  return args;
}

/** Parses `<ts> [<db> <source>] "arg" ...` (the text after the leading `+`) into bytes. */
export function parseMonitorBytes(line: string): MonitoredBytes {
  const m = /^(\d+\.\d+) \[(\d+) ([^\]]+)\] (.*)$/s.exec(line);
  if (!m) throw new Error(`MONITOR line not understood: ${line}`);
  return { t: Number(m[1]), db: Number(m[2]), source: m[3]!, argv: parseReprArgs(m[4]!) };
}

/** Parses a MONITOR line with arguments as FORMAT.md values (UTF-8 text or `{ base64 }`). */
export function parseMonitorLine(line: string): MonitoredCommand {
  const b = parseMonitorBytes(line);
  return { ...b, argv: b.argv.map(wireValue) };
}
