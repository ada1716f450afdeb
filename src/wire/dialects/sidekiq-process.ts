/**
 * Sidekiq's process registry per version (`Launcher#❤`): the beat period, the busy-work hash's
 * name and write pattern, the `<identity>` hash command and the `info` JSON's fields in each
 * version's order. The engine's SidekiqHeartbeat sends what this describes.
 */
import { floatSeconds } from '../timestamps.js';
import type { ProcessInfoInput, SidekiqProcessLayout } from './dialect.js';

/** A JSON object whose keys keep the given order (a JS object would move integer-like keys). */
export function orderedJson(entries: ReadonlyArray<readonly [string, string]>): string {
  return `{${entries.map(([k, raw]) => `${JSON.stringify(k)}:${raw}`).join(',')}}`;
}

/** The fields every version writes first and last. */
function headAndTail(p: ProcessInfoInput): { head: [string, string][]; tail: [string, string][]; weights: string } {
  return {
    head: [
      ['hostname', JSON.stringify(p.hostname)],
      ['started_at', floatSeconds(p.startedAtMs)],
      ['pid', String(p.pid)],
      ['tag', JSON.stringify(p.tag)],
    ],
    tail: [
      ['labels', JSON.stringify(p.labels)],
      ['identity', JSON.stringify(p.identity)],
    ],
    weights: orderedJson(p.queues.map((q) => [q, '0'] as const)), // 0 = strict order
  };
}

/** Sidekiq 6.4.0–6.4.1: 5 s beat, `:workers`, HMSET, one HSET per slot. */
export const SIDEKIQ6_PROCESS: SidekiqProcessLayout = {
  beatSeconds: 5,
  workKeySuffix: ':workers',
  workWrite: 'per-slot',
  processHashCommand: 'hmset',
  concurrencyField: false,
  defaultTag: 'empty',
  info(p) {
    const { head, tail } = headAndTail(p);
    return orderedJson([...head, ['concurrency', String(p.concurrency)], ['queues', JSON.stringify(p.queues)], ...tail]);
  },
};

/** Sidekiq 7.3: 10 s beat, `:work`, `weights` and `version`, `embedded`. */
export const SIDEKIQ7_PROCESS: SidekiqProcessLayout = {
  beatSeconds: 10,
  workKeySuffix: ':work',
  workWrite: 'batched',
  processHashCommand: 'hset',
  concurrencyField: false,
  defaultTag: 'empty',
  info(p) {
    const { head, tail, weights } = headAndTail(p);
    return orderedJson([
      ...head, ['concurrency', String(p.concurrency)], ['queues', JSON.stringify(p.queues)], ['weights', `[${weights}]`],
      ...tail, ['version', JSON.stringify('7.3.10')], ['embedded', 'false'],
    ]);
  },
};

/** Sidekiq 8.1: concurrency in `capsules` and its own hash field; the tag defaults to the cwd's name. */
export const SIDEKIQ8_PROCESS: SidekiqProcessLayout = {
  beatSeconds: 10,
  workKeySuffix: ':work',
  workWrite: 'batched',
  processHashCommand: 'hset',
  concurrencyField: true,
  defaultTag: 'cwd-name',
  info(p) {
    const { head, tail, weights } = headAndTail(p);
    // kiqgate is one capsule over all queues.
    const capsule = orderedJson([['concurrency', String(p.concurrency)], ['mode', '"strict"'], ['weights', weights]]);
    return orderedJson([
      ...head, ['capsules', orderedJson([['default', capsule]])], ['queues', JSON.stringify(p.queues)], ['weights', `[${weights}]`],
      ...tail, ['version', JSON.stringify('8.1.7')], ['embedded', 'false'],
    ]);
  },
};
