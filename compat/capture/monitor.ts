/**
 * A raw `MONITOR` client for the fixture capture tool (the line parser is shared with the compat
 * runner: src/compat/monitor-line.ts).
 */
import { connect, type Socket } from 'node:net';
import { type MonitoredCommand, parseMonitorLine } from '../../src/compat/monitor-line.js';

export { type MonitoredCommand, type WireValue, parseMonitorLine, parseReprArgs, wireValue } from '../../src/compat/monitor-line.js';

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
