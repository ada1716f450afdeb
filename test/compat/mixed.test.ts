/**
 * Mixed scenarios: one runtime's producer, another's consumer. The pairs are derived from the
 * captured sets; each payload is judged by the runtime that wrote it, and the failure entry
 * kiqgate writes standing in for the consumer is held to the consumer's. The checker itself must
 * be able to fail: entries that break the consumer's rules are rejected.
 */
import { cpSync, mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreignFailureDiffs } from '../../src/compat/foreign-failure.js';
import { mixedScenarios } from '../../src/compat/mixed.js';
import { loadFixtures, runCompat } from '../../src/compat/runner.js';
import { CHECKS } from '../../src/compat/types.js';
import { decodeCheck } from '../../src/compat/checks/decode.js';
import { lifecycleCheck } from '../../src/compat/checks/lifecycle.js';
import { produceCheck } from '../../src/compat/checks/produce.js';
import { roundtripCheck } from '../../src/compat/checks/roundtrip.js';
import { runCheck } from '../../src/compat/checks/run.js';
import { JsonObject, parseJson, stringifyJson } from '../../src/wire/json.js';
import { FIXTURES_DIR } from '../support/fixtures.js';
import { TEST_REDIS_URL } from '../support/redis.js';

const obj = (text: string) => parseJson(text) as JsonObject;

describe('mixed scenarios derived from the shipped fixture sets', () => {
  const { fixtures } = loadFixtures([FIXTURES_DIR]);
  const mixed = mixedScenarios(fixtures);

  it('pairs every producer dialect with every other consumer dialect, each consumer with its own captured failure entry', () => {
    const names = mixed.map((m) => m.name);
    const sets = ['sidekiq-6.4.1', 'sidekiq-7.3.10', 'sidekiq-8.1.7', 'verk-1.7.3', 'exq-0.23.0'];
    for (const p of sets) for (const c of sets) if (p !== c) expect(names).toContain(`mixed/${p}→${c}`);
    for (const m of mixed) {
      expect(m.fixture.producer).toBeDefined();
      expect(m.fixture.commands.length + (m.fixture.lua_commands?.length ?? 0)).toBeGreaterThan(0);
      expect(m.fixture.consumerFailure?.entry, m.name).toBeTruthy();
    }
    // A set written by kiqgate itself (sidekiq-6.4.1-kiqgate) never stands for Sidekiq's client.
    expect(names.some((n) => n.includes('-kiqgate'))).toBe(false);
    // ActiveJob rides on Sidekiq 6.4.1's envelope, whose pairs sidekiq-6.4.1 derives: it adds none.
    expect(fixtures.some((f) => f.fixture.system === 'activejob')).toBe(true);
    expect(names.some((n) => n.includes('activejob'))).toBe(false);
  });
});

describe('the foreign-failure checker can fail', () => {
  const sidekiqJob = obj('{"retry":true,"queue":"default","class":"A","args":[1],"jid":"0123456789abcdef01234567","created_at":1795881061.1,"enqueued_at":1795881061.2}');
  const sidekiqOwn = obj('{"retry":true,"queue":"default","class":"A","args":[1],"jid":"0123456789abcdef01234567","created_at":1795881061.1,"enqueued_at":1795881061.2,"error_message":"x","error_class":"E","failed_at":1795881062.3,"retry_count":0}');

  it('accepts the entry Sidekiq writes for a Verk job and rejects one missing error_class or re-stamping failed_at', () => {
    const verkJob = obj('{"args":"[1]","class":"A","created_at":null,"enqueued_at":1795881061,"error_backtrace":null,"error_message":null,"failed_at":null,"finished_at":null,"jid":"123","max_retry_count":25,"queue":"default","retried_at":null,"retry_count":0}');
    // retry_count 0 is truthy in Ruby: Sidekiq stamps retried_at and counts 1.
    const good = obj('{"args":"[1]","class":"A","created_at":null,"enqueued_at":1795881061,"error_backtrace":null,"error_message":"boom","failed_at":null,"finished_at":null,"jid":"123","max_retry_count":25,"queue":"default","retried_at":1795881070.5,"retry_count":1,"retry":true,"error_class":"E"}');
    expect(foreignFailureDiffs({ consumer: 'sidekiq', job: verkJob, own: sidekiqOwn, actual: good, queue: 'default' })).toEqual([]);
    const noClass = obj('{"args":"[1]","class":"A","created_at":null,"enqueued_at":1795881061,"error_backtrace":null,"error_message":"boom","failed_at":null,"finished_at":null,"jid":"123","max_retry_count":25,"queue":"default","retried_at":1795881070.5,"retry_count":1,"retry":true}');
    expect(foreignFailureDiffs({ consumer: 'sidekiq', job: verkJob, own: sidekiqOwn, actual: noClass, queue: 'default' }).join('; ')).toMatch(/keys differ.*error_class is absent/);
    const stamped = obj('{"args":"[1]","class":"A","created_at":null,"enqueued_at":1795881061,"error_backtrace":null,"error_message":"boom","failed_at":1795881070,"finished_at":null,"jid":"123","max_retry_count":25,"queue":"default","retried_at":1795881070.5,"retry_count":1,"retry":true,"error_class":"E"}');
    expect(foreignFailureDiffs({ consumer: 'sidekiq', job: verkJob, own: sidekiqOwn, actual: stamped, queue: 'default' }).join('; ')).toMatch(/failed_at was not kept/);
    const noRetry = obj(stringifyJson(good).replace(',"retry":true', ''));
    expect(foreignFailureDiffs({ consumer: 'sidekiq', job: verkJob, own: sidekiqOwn, actual: noRetry, queue: 'default' }).join('; ')).toMatch(/retry is absent, expected true/);
  });

  it('holds a Verk consumer to its 13 keys with the args as a JSON string, and rejects Sidekiq keys kept or args left an array', () => {
    const verkOwn = obj('{"args":"[1,2]","class":"F","created_at":null,"enqueued_at":1795881061,"error_backtrace":"\\n","error_message":"boom","failed_at":1795881062,"finished_at":null,"jid":"40227155023784335317","max_retry_count":25,"queue":"default","retried_at":null,"retry_count":1}');
    const good = obj('{"args":"[1]","class":"A","created_at":1795881061.1,"enqueued_at":1795881061.2,"error_backtrace":"\\n","error_message":"boom","failed_at":1795881070,"finished_at":null,"jid":"0123456789abcdef01234567","max_retry_count":null,"queue":"default","retried_at":null,"retry_count":1}');
    expect(foreignFailureDiffs({ consumer: 'verk', job: sidekiqJob, own: verkOwn, actual: good, queue: 'default' })).toEqual([]);
    const arrayArgs = obj('{"args":[1],"class":"A","created_at":1795881061.1,"enqueued_at":1795881061.2,"error_backtrace":"\\n","error_message":"boom","failed_at":1795881070,"finished_at":null,"jid":"0123456789abcdef01234567","max_retry_count":null,"queue":"default","retried_at":null,"retry_count":1}');
    expect(foreignFailureDiffs({ consumer: 'verk', job: sidekiqJob, own: verkOwn, actual: arrayArgs, queue: 'default' }).join('; ')).toMatch(/args is \[1\], expected a JSON string/);
    const sidekiqShaped = obj('{"retry":true,"queue":"default","class":"A","args":[1],"jid":"0123456789abcdef01234567","created_at":1795881061.1,"enqueued_at":1795881061.2,"error_message":"boom","error_class":"E","failed_at":1795881070.1,"retry_count":0}');
    expect(foreignFailureDiffs({ consumer: 'verk', job: sidekiqJob, own: verkOwn, actual: sidekiqShaped, queue: 'default' }).join('; ')).toMatch(/keys differ/);
  });

  it('holds a Resque consumer to its failure backend entry with the job verbatim as payload', () => {
    const good = obj('{"failed_at":"2026/12/07 22:20:41 UTC","payload":{"retry":true,"queue":"default","class":"A","args":[1],"jid":"0123456789abcdef01234567","created_at":1795881061.1,"enqueued_at":1795881061.2},"exception":"E","error":"boom","backtrace":[],"worker":"h:1:default","queue":"default"}');
    expect(foreignFailureDiffs({ consumer: 'resque', job: sidekiqJob, own: good, actual: good, queue: 'default' })).toEqual([]);
    const isoTime = obj('{"failed_at":"2026-12-07T22:20:41Z","payload":{"class":"A","args":[1]},"exception":"E","error":"boom","backtrace":[],"worker":"h:1:default","queue":"default"}');
    expect(foreignFailureDiffs({ consumer: 'resque', job: sidekiqJob, own: good, actual: isoTime, queue: 'default' }).join('; ')).toMatch(/payload is not the job as queued.*failed_at is/);
  });
});

describe('kiqgate compat on a producer × consumer pair', () => {
  it('passes Sidekiq 7 jobs consumed as Verk and Verk jobs consumed as Sidekiq 7, each check applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiqgate-mixed-'));
    for (const [set, scenario] of [['sidekiq-7.3.10', 'push-simple'], ['sidekiq-7.3.10', 'worker-failure-retry'], ['verk-1.7.3', 'enqueue'], ['verk-1.7.3', 'worker-failure-retry']]) {
      mkdirSync(join(dir, set!), { recursive: true });
      cpSync(join(FIXTURES_DIR, set!, `${scenario}.json`), join(dir, set!, `${scenario}.json`));
    }
    const checks = { decode: decodeCheck, roundtrip: roundtripCheck, run: runCheck, produce: produceCheck, lifecycle: lifecycleCheck };
    const { results } = await runCompat({ redisUrl: TEST_REDIS_URL, fixtureDirs: [dir], checks });
    const mixed = results.filter((r) => r.name.startsWith('mixed/'));
    expect(mixed.map((r) => r.name).sort()).toEqual(['mixed/sidekiq-7.3.10→verk-1.7.3', 'mixed/verk-1.7.3→sidekiq-7.3.10']);
    for (const r of mixed) {
      const detail = JSON.stringify(r, null, 1);
      expect(r.ok, detail).toBe(true);
      for (const n of ['decode', 'run', 'lifecycle'] as const) expect(r.checks[n].na, `${r.name} ${n}`).toBeUndefined();
      expect(CHECKS.every((n) => r.checks[n].failures.length === 0), detail).toBe(true);
    }
  }, 120_000);
});
