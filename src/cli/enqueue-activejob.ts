/**
 * `kiqgate enqueue --activejob CLASS --args JSON`: the arguments are given in ActiveJob's own
 * JSON form (what Rails writes in `arguments`: `{"_aj_serialized": ...}`, `{"_aj_globalid": ...}`,
 * a Hash with its `_aj_symbol_keys` / `_aj_ruby2_keywords` marker), read with the consumer's
 * rules; a Hash without a marker is a String-key Hash, written with `"_aj_symbol_keys": []` as
 * perform_later does.
 */
import type { Client } from '../client/index.js';
import { WireError, parseJson } from '../wire/index.js';
import { AJ_HASH, type AjValue, decodeArguments, hashInfo } from '../wire/activejob/index.js';

/** Drops the 'none' mark (no marker given) so the Hash is written as perform_later writes a String-key Hash. */
function unmarkPlain(v: AjValue): void {
  if (Array.isArray(v)) v.forEach(unmarkPlain);
  else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    if (hashInfo(v)?.mark === 'none') delete (v as Record<symbol, unknown>)[AJ_HASH];
    Object.values(v).forEach(unmarkPlain);
  }
}

export interface ActiveJobFlags {
  activejob: string;
  args: string;
  queue?: string | undefined;
  in?: string | undefined;
  priority?: string | undefined;
  target?: string | undefined;
}

/** Parses the flags and enqueues; resolves to the jid. Bad input: a WireError naming the flag. */
export async function enqueueActiveJob(client: Client, f: ActiveJobFlags, at: Date | number | undefined): Promise<string> {
  let parsed;
  try {
    parsed = parseJson(f.args);
  } catch (err) {
    throw new WireError('invalid_args', `--args is not valid JSON: ${(err as Error).message.replace(/^payload is not valid JSON: /, '')}`, 'args');
  }
  if (!Array.isArray(parsed)) throw new WireError('invalid_args', '--args must be a JSON array of the perform arguments', 'args');
  const args = decodeArguments(parsed, 'args');
  args.forEach(unmarkPlain);
  let priority: number | undefined;
  if (f.priority !== undefined) {
    if (!/^-?\d+$/.test(f.priority)) throw new WireError('invalid_option', `--priority must be an integer, got ${JSON.stringify(f.priority)}`, 'priority');
    priority = Number(f.priority);
  }
  let inSeconds: number | undefined;
  if (f.in !== undefined) {
    inSeconds = Number(f.in);
    if (f.in.trim() === '' || !Number.isFinite(inSeconds)) throw new WireError('invalid_option', `--in must be a number of seconds, got ${JSON.stringify(f.in)}`, 'in');
  }
  return client.enqueue({
    activeJob: f.activejob, args,
    ...(f.queue !== undefined ? { queue: f.queue } : {}),
    ...(at !== undefined ? { at } : {}),
    ...(inSeconds !== undefined ? { in: inSeconds } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(f.target !== undefined ? { target: f.target } : {}),
  });
}
