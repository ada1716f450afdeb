/**
 * Sends one ioredis command and, once it has settled, empties what it references: its
 * argument list and (for an array reply) the array its promise holds. The caller gets the
 * reply's items in a new array.
 *
 * Why: ioredis's `Command` stores closures it creates inline on itself (`this.reject = (err)
 * => …` in `initPromise`, and again in the script command's `toWritable`). V8's parser
 * allocates a function literal assigned to a property straight into the old generation,
 * expecting a long-lived method. Until that ioredis code is optimized, which takes thousands of
 * calls, each command is therefore referenced from the old generation. A scavenge must treat
 * it as live, so the command, its arguments and its reply survive and are promoted, until the
 * next full GC. A worker's tick is one script call carrying ~50 payloads in (acks) and ~50 out
 * (the next batch), so every tick was kept that way. On 2026-12-03 (100,000-job drain at c50)
 * the worker kept ~0.6 MB per scavenge; the young generation grew to its 16 MB maximum and
 * the old one by ~0.6 MB per scavenge: a peak RSS of 100–106 MB. With the references dropped
 * here, it keeps ~20 KB per scavenge; the young generation stays at 8 MB, and the peak is
 * 81–84 MB. The command is done with both once its reply is in, so emptying them is safe.
 */
import type { Command, Redis } from 'ioredis';

/** Sends `command` on `redis`; resolves to its reply (an array reply copied), with the command emptied. */
export async function sendReleasing(redis: Redis, command: Command): Promise<unknown> {
  try {
    const reply = await redis.sendCommand(command);
    return Array.isArray(reply) ? reply.splice(0) : reply;
  } finally {
    command.args = [];
  }
}
