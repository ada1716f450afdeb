/**
 * Runs the compat checks over fixture directories against one Redis, each check in a key prefix
 * of its own (removed afterwards), and collects one result per scenario.
 *
 * It never touches data it did not create: all keys live under `<root>:`, a root that is checked
 * to be empty before anything is written. An interrupted run (Ctrl-C: `signal`) removes them too.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { connectChecked, deleteKeys, RedisUnreachableError, scanKeys } from '../support/connection.js';
import { delay } from '../support/delay.js';
import { redactText } from '../support/redact.js';
import { CommandLog } from './monitor.js';
import { findFixtureFiles, readFixture, unspokenReason, type LoadedFixture } from './fixture.js';
import { stopCheckWorkers } from './checks/harness.js';
import { mixedScenarios } from './mixed.js';
import { type Check, type CheckName, type CheckResult, type ScenarioResult, CHECKS, notApplicable } from './types.js';

export interface RunOptions {
  redisUrl: string;
  fixtureDirs: string[];
  /** Key prefix for everything the suite writes (default: a fresh `kiqgate-compat-<hex>`). */
  namespace?: string;
  /** Allow a namespace that already holds keys. */
  force?: boolean;
  checks: Partial<Record<CheckName, Check>>;
  /**
   * Also run the mixed scenarios derived from the loaded sets (every producer × consumer pair of
   * different dialects, src/compat/mixed.ts). Default true.
   */
  mixed?: boolean;
  /** Called after each scenario (for streaming output). */
  onResult?: (r: ScenarioResult) => void;
  /** Aborting it interrupts the run: runCompat removes what it wrote and rejects with CompatInterruptedError. */
  signal?: AbortSignal;
}

export class CompatSetupError extends Error {}

/** The run was interrupted (its `signal` aborted); the keys under `root` were removed. */
export class CompatInterruptedError extends Error {
  override readonly name = 'CompatInterruptedError';
  constructor(readonly root: string, readonly removed: boolean) {
    super(removed ? `interrupted: removed the keys it wrote under '${root}:'` : `interrupted: could not remove the keys it wrote under '${root}:'`);
  }
}

/** How long an interrupted run waits for the check in flight to give up before removing its keys. */
const SETTLE_MS = 5_000;

/** Loads every fixture under the directories (an unreadable file is reported, not fatal). */
export function loadFixtures(dirs: string[]): { fixtures: LoadedFixture[]; errors: string[] } {
  const fixtures: LoadedFixture[] = [];
  const errors: string[] = [];
  for (const dir of dirs) {
    let files: string[];
    try {
      files = findFixtureFiles(dir);
    } catch (err) {
      errors.push(`${dir}: cannot read the directory (${(err as Error).message})`);
      continue;
    }
    for (const file of files) {
      try {
        fixtures.push(readFixture(file, dir));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  }
  return { fixtures, errors };
}

export async function runCompat(opts: RunOptions): Promise<{ results: ScenarioResult[]; loadErrors: string[] }> {
  const root = opts.namespace ?? `kiqgate-compat-${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  try {
    redis = await connectChecked(opts.redisUrl);
  } catch (err) {
    if (err instanceof RedisUnreachableError) throw new CompatSetupError(`cannot reach Redis: ${err.reason}`);
    throw new CompatSetupError(redactText((err as Error).message));
  }
  const existing = await scanKeys(redis, `${root}:*`);
  if (existing.length > 0 && !opts.force) {
    redis.disconnect();
    throw new CompatSetupError(`namespace '${root}' already holds keys (e.g. ${existing[0]}); choose another --namespace or pass --force`);
  }
  const loaded = loadFixtures(opts.fixtureDirs);
  const errors = loaded.errors;
  // Every producer × consumer pair of different dialects among the loaded sets runs too.
  const fixtures = [...loaded.fixtures, ...(opts.mixed === false ? [] : mixedScenarios(loaded.fixtures))];
  const monitor = await CommandLog.start(opts.redisUrl);
  const results: ScenarioResult[] = [];
  const signal = opts.signal;
  const run = (async () => {
    for (const [i, fx] of fixtures.entries()) {
      const checks = {} as Record<CheckName, CheckResult>;
      // A system or version kiqgate does not speak fails, and none of its checks runs: a check
      // could only pass it by reading its jobs as something they are not.
      const unspoken = unspokenReason(fx.fixture);
      const failures: string[] = unspoken ? [unspoken] : [];
      for (const name of CHECKS) {
        if (signal?.aborted) return;
        const check = opts.checks[name];
        const namespace = `${root}:${i}:${name}`;
        if (unspoken) {
          checks[name] = notApplicable(`not run: ${unspoken}`);
          continue;
        }
        if (!check) {
          checks[name] = notApplicable('not run');
          failures.push(`the ${name} check was not run (none was given)`);
          continue;
        }
        try {
          checks[name] = await check(fx, { redisUrl: opts.redisUrl, redis, monitor, namespace });
        } catch (err) {
          checks[name] = { passed: 0, total: 1, failures: [`the check itself failed: ${(err as Error).message}`] };
        } finally {
          await deleteKeys(redis, `${namespace}:*`);
        }
      }
      const ran = Object.values(checks).filter((c) => !c.na);
      if (failures.length === 0 && ran.length === 0) {
        const why = CHECKS.map((n) => `${n}: ${checks[n].na}`).join('; ');
        failures.push(`every check was n/a, so nothing was checked (${why})`);
      }
      const result: ScenarioResult = {
        name: fx.name,
        system: fx.fixture.system,
        version: fx.fixture.version,
        checks,
        failures,
        ok: failures.length === 0 && ran.every((c) => c.failures.length === 0),
      };
      results.push(result);
      opts.onResult?.(result);
    }
  })();
  const interrupted = new Promise<'interrupted'>((resolve) => {
    if (signal?.aborted) resolve('interrupted');
    signal?.addEventListener('abort', () => resolve('interrupted'), { once: true });
  });
  /** What a finished (or failed) run leaves: nothing under the root, no connection. */
  const cleanUp = async () => {
    monitor.stop();
    try {
      await deleteKeys(redis, `${root}:*`);
    } finally {
      redis.disconnect();
    }
  };
  let outcome: 'done' | 'interrupted';
  try {
    outcome = await Promise.race([run.then(() => 'done' as const), interrupted]);
  } catch (err) {
    await cleanUp().catch(() => undefined); // the run's own error is the one to report
    throw err;
  }
  if (outcome === 'interrupted') {
    monitor.stop();
    throw new CompatInterruptedError(root, await removeAfterInterrupt(opts.redisUrl, redis, root, run));
  }
  await cleanUp();
  return { results, loadErrors: errors };
}

/**
 * Cleanup of an interrupted run, in an order that leaves nothing behind: the check in flight
 * loses its connection (its next command fails, so it writes nothing more), the Workers the
 * checks started are stopped (a Sidekiq heartbeat deregisters) and no new one starts, the check
 * is given a moment to give up, and only then is everything under the root removed, over a
 * new connection. Resolves whether the keys were removed.
 */
async function removeAfterInterrupt(url: string, redis: Redis, root: string, run: Promise<void>): Promise<boolean> {
  redis.disconnect();
  await stopCheckWorkers();
  const settle = delay(SETTLE_MS);
  await Promise.race([run.catch(() => undefined), settle.promise]);
  settle.cancel();
  try {
    const fresh = await connectChecked(url);
    try {
      await deleteKeys(fresh, `${root}:*`);
    } finally {
      fresh.disconnect();
    }
    return true;
  } catch {
    return false;
  }
}
