/**
 * A raw `MONITOR` client for the fixture capture tool, with a byte-exact parser.
 *
 * ioredis's own monitor mode is lossy (it splits on `" "` and does not undo Redis's escapes),
 * so this reads the status lines itself and decodes each argument from Redis's repr form
 * (`\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b`, `\xHH`) back into the exact bytes that were sent.
 */
import { connect, type Socket } from 'node:net';

/** One argument: UTF-8 text, or `{ base64 }` when the bytes are not valid UTF-8 (FORMAT.md). */
export type WireValue = string | { base64: string };

export interface MonitoredCommand {
  t: number;
  db: number;
  /** `127.0.0.1:<port>` of the client, or `lua` for commands run inside a script. */
  source: string;
  argv: WireValue[];
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

/** Parses `<ts> [<db> <source>] "arg" ...` (the text after the leading `+`). */
export function parseMonitorLine(line: string): MonitoredCommand {
  const m = /^(\d+\.\d+) \[(\d+) ([^\]]+)\] (.*)$/s.exec(line);
  if (!m) throw new Error(`MONITOR line not understood: ${line}`);
  return { t: Number(m[1]), db: Number(m[2]), source: m[3]!, argv: parseReprArgs(m[4]!).map(wireValue) };
}

export interface MonitorHandle {
  readonly commands: MonitoredCommand[];
  /** Waits until the monitor has seen a command whose argv equals `argv` (a sentinel). */
  seen(predicate: (c: MonitoredCommand) => boolean, timeoutMs?: number): Promise<void>;
  stop(): void;
}

/** Opens a MONITOR connection and resolves once Redis has answered `+OK`. */
export async function startMonitor(host: string, port: number): Promise<MonitorHandle> {
  const sock: Socket = connect({ host, port });
  const commands: MonitoredCommand[] = [];
  const waiters: Array<() => void> = [];
  let pending = Buffer.alloc(0);
  let ready: () => void;
  let failed: (e: Error) => void;
  const ok = new Promise<void>((res, rej) => { ready = res; failed = rej; });
  sock.on('error', (e) => failed(e));
  sock.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    let nl: number;
    while ((nl = pending.indexOf('\r\n')) >= 0) {
      // Every byte above 0x7e is escaped by Redis, so latin1 keeps the line's bytes as they are.
      const line = pending.subarray(0, nl).toString('latin1');
      pending = pending.subarray(nl + 2);
      if (line === '+OK') { ready(); continue; }
      if (line.startsWith('-')) { failed(new Error(`MONITOR: ${line}`)); continue; }
      commands.push(parseMonitorLine(line.slice(1)));
      waiters.splice(0).forEach((w) => w());
    }
  });
  sock.write('MONITOR\r\n');
  await ok;
  return {
    commands,
    async seen(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!commands.some(predicate)) {
        if (Date.now() > deadline) throw new Error('MONITOR: sentinel command not seen before the deadline');
        await new Promise<void>((res) => {
          waiters.push(res);
          setTimeout(res, 100);
        });
      }
    },
    stop() {
      sock.destroy();
    },
  };
}
