/**
 * Compares the commands kiqgate sent with the ones a peer sent for the same action: the same
 * commands in the same order, to the same keys, with the same set members, scores in the same
 * format, and payloads of the same shape (see payload-shape.ts).
 */
import { comparePayloadShape, scoreForm } from './payload-shape.js';

/** Commands a peer's connection sends that are not part of the action itself. */
const CONNECTION_COMMANDS = new Set(['hello', 'select', 'client', 'info', 'ping', 'auth', 'script', 'evalsha', 'eval']);

export function isActionCommand(argv: string[]): boolean {
  return !CONNECTION_COMMANDS.has(argv[0]!.toLowerCase());
}

/** Lists the differences; empty when kiqgate's commands match the peer's. */
export function compareCommands(expected: string[][], actual: string[][]): string[] {
  const e = expected.filter(isActionCommand);
  const a = actual.filter(isActionCommand);
  const label = (c: string[]) => `${c[0]!.toLowerCase()} ${c[1] ?? ''}`;
  if (e.map(label).join('\n') !== a.map(label).join('\n')) {
    return [`commands differ: peer sent [${e.map(label).join('; ')}], kiqgate sent [${a.map(label).join('; ')}]`];
  }
  const diffs: string[] = [];
  for (let i = 0; i < e.length; i++) {
    const ec = e[i]!;
    const ac = a[i]!;
    const cmd = ec[0]!.toLowerCase();
    if (ec.length !== ac.length) {
      diffs.push(`${label(ec)}: peer sent ${ec.length - 2} values, kiqgate ${ac.length - 2}`);
      continue;
    }
    if (cmd === 'sadd' && ec.slice(2).join(',') !== ac.slice(2).join(',')) {
      diffs.push(`${label(ec)}: members differ: peer [${ec.slice(2).join(', ')}], kiqgate [${ac.slice(2).join(', ')}]`);
    }
    if (cmd === 'lpush' || cmd === 'rpush') {
      for (let j = 2; j < ec.length; j++) {
        for (const d of comparePayloadShape(ec[j]!, ac[j]!)) diffs.push(`${label(ec)} value ${j - 1}: ${d}`);
      }
    }
    if (cmd === 'zadd') {
      for (let j = 2; j + 1 < ec.length; j += 2) {
        if (scoreForm(ec[j]!) !== scoreForm(ac[j]!)) diffs.push(`${label(ec)}: score format differs: peer ${ec[j]}, kiqgate ${ac[j]}`);
        for (const d of comparePayloadShape(ec[j + 1]!, ac[j + 1]!)) diffs.push(`${label(ec)} member ${(j - 2) / 2 + 1}: ${d}`);
      }
    }
  }
  return diffs;
}
