/**
 * A MONITOR connection that records every command the server executes, so a check can see the
 * exact commands kiqgate sent (and in what order), filtered to its own key prefix.
 *
 * It reads the raw lines over its own socket (see monitor-line.ts for why not ioredis's monitor
 * mode) and decodes every argument back to its exact bytes.
 */
import { connect, type Socket } from 'node:net';
import { parseMonitorBytes } from './monitor-line.js';

export class CommandLog {
  private readonly lines: Buffer[][] = [];
  private buffered = '';

  private constructor(private readonly socket: Socket) {}

  /** Opens a MONITOR session on `url` (redis://[user:pass@]host:port[/db]). */
  static async start(url: string): Promise<CommandLog> {
    const u = new URL(url);
    if (u.protocol !== 'redis:') throw new Error(`the command log needs a plain redis:// URL, got ${u.protocol}//`);
    const socket = connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) });
    const log = new CommandLog(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    socket.setEncoding('latin1'); // MONITOR output is ASCII; latin1 keeps every byte as one char
    let ready: () => void = () => {};
    const okSeen = new Promise<void>((r) => { ready = r; });
    socket.on('data', (chunk: string) => log.onData(chunk, ready));
    socket.on('error', () => {});
    if (u.password) {
      const user = decodeURIComponent(u.username);
      const pass = decodeURIComponent(u.password);
      socket.write(user ? `AUTH ${JSON.stringify(user)} ${JSON.stringify(pass)}\r\n` : `AUTH ${JSON.stringify(pass)}\r\n`);
    }
    socket.write('MONITOR\r\n');
    await okSeen;
    return log;
  }

  private onData(chunk: string, ready: () => void): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\r\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 2);
      if (line === '+OK') ready();
      else if (line.startsWith('+')) {
        try {
          this.lines.push(parseMonitorBytes(line.slice(1)).argv);
        } catch {
          // a line we cannot read (never seen): not one of our commands
        }
      }
    }
  }

  /** Commands that touched a key under `<namespace>:`, with the prefix stripped, as UTF-8 text. */
  commandsUnder(namespace: string): string[][] {
    return this.rawCommandsUnder(namespace).map((a) => a.map((b) => b.toString('utf8')));
  }

  /** The same as byte buffers (exact, for payloads that are not UTF-8). */
  rawCommandsUnder(namespace: string): Buffer[][] {
    const p = Buffer.from(`${namespace}:`);
    return this.lines
      .filter((a) => a.slice(1).some((x) => x.subarray(0, p.length).equals(p)))
      .map((a) => a.map((x) => (x.subarray(0, p.length).equals(p) ? x.subarray(p.length) : x)));
  }

  /** Waits (bounded) until at least `count` commands under `namespace` were seen. */
  async waitForCount(namespace: string, count: number, timeoutMs = 3000): Promise<string[][]> {
    const deadline = Date.now() + timeoutMs;
    while (this.rawCommandsUnder(namespace).length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    // Let a straggler (a command sent after the expected ones) arrive, so extras are seen too.
    await new Promise((r) => setTimeout(r, 20));
    return this.commandsUnder(namespace);
  }

  stop(): void {
    this.socket.destroy();
  }
}
