/**
 * Runs the compat checks over fixture directories against one Redis, each check in a key prefix
 * of its own (removed afterwards), and collects one result per scenario.
 *
 * It never touches data it did not create: all keys live under `<root>:`, a root that is checked
 * to be empty before anything is written.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { connectChecked, deleteKeys, RedisUnreachableError, scanKeys } from '../support/connection.js';
import { redactText } from '../support/redact.js';
import { CommandLog } from './monitor.js';
import { findFixtureFiles, readFixture, type LoadedFixture } from './fixture.js';
import { type Check, type CheckName, type CheckResult, type ScenarioResult, CHECKS } from './types.js';

export interface RunOptions {
  redisUrl: string;
  fixtureDirs: string[];
  /** Key prefix for everything the suite writes (default: a fresh `kiqgate-compat-<hex>`). */
  namespace?: string;
  /** Allow a namespace that already holds keys. */
  force?: boolean;
  checks: Partial<Record<CheckName, Check>>;
  /** Called after each scenario (for streaming output). */
  onResult?: (r: ScenarioResult) => void;
}

export class CompatSetupError extends Error {}

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
  const { fixtures, errors } = loadFixtures(opts.fixtureDirs);
  const monitor = await CommandLog.start(opts.redisUrl);
  const results: ScenarioResult[] = [];
  try {
    for (const [i, fx] of fixtures.entries()) {
      const checks = {} as Record<CheckName, CheckResult>;
      for (const name of CHECKS) {
        const check = opts.checks[name];
        const namespace = `${root}:${i}:${name}`;
        if (!check) {
          checks[name] = { passed: 0, total: 0, failures: [], na: 'not run' };
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
      const result: ScenarioResult = {
        name: fx.name,
        system: fx.fixture.system,
        version: fx.fixture.version,
        checks,
        ok: ran.length > 0 && ran.every((c) => c.failures.length === 0),
      };
      results.push(result);
      opts.onResult?.(result);
    }
  } finally {
    monitor.stop();
    await deleteKeys(redis, `${root}:*`);
    redis.disconnect();
  }
  return { results, loadErrors: errors };
}
