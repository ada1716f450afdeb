/**
 * The JSON Schemas in schemas/: every payload, info and work entry the peers wrote fits the
 * schema of its peer; misfits are named by field; the generated TypeScript types are current.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_FILE, readSchemaFiles, renderSchemaTypes } from '../../scripts/gen-schema-types.js';
import {
  type JobSidekiq8, type JobVerk, type ProcessInfoSidekiq, type WorkEntrySidekiq, SCHEMA_DOCUMENTS, decodeJob, isJobShape,
  schemaFor, validateJobShape, validateProcessInfo, validateRetryFields, validateWorkEntry,
} from '../../src/wire/index.js';
import { validatorFor } from '../../src/wire/schemas.js';
import { jobPayloads, loadFixture, peerOf } from './fixture-payloads.js';

describe('schema documents', () => {
  it('are all loaded, each with $id, title and the 2020-12 dialect', () => {
    const files = readSchemaFiles();
    expect(files.map((f) => f.file)).toEqual(Object.keys(SCHEMA_DOCUMENTS).map((n) => `${n}.json`).sort());
    for (const { file, schema } of files) {
      expect(schema.$schema, file).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.$id, file).toBe(`https://kiqgate.dev/schemas/${file}`);
      expect(typeof schema.title, file).toBe('string');
      expect(String(schema.description), file).toMatch(/fixture|sidekiq-wire|verk-wire|exq-wire/);
      // the imported copy is the file on disk
      expect(SCHEMA_DOCUMENTS[file.replace(/\.json$/, '') as keyof typeof SCHEMA_DOCUMENTS]).toEqual(schema);
    }
  });

  it('compiles each validator once', () => {
    expect(validatorFor('job.verk')).toBe(validatorFor('job.verk'));
    expect(schemaFor('sidekiq6')).toBe(schemaFor('sidekiq7'));
    expect(schemaFor('sidekiq8').$id).toMatch(/job\.sidekiq8\.json$/);
  });

  it('the generated TypeScript types are up to date (run npx tsx scripts/gen-schema-types.ts)', () => {
    expect(readFileSync(GENERATED_FILE, 'utf8')).toBe(renderSchemaTypes());
  });
});

describe('what the peers wrote fits their schemas', () => {
  it.each(jobPayloads().map((p) => [`${p.file} ${p.where}`, p] as const))('%s', (_name, p) => {
    const peer = peerOf(p.system, p.version);
    const job = JSON.parse(p.text) as unknown;
    expect(validateJobShape(peer, job)).toBeNull();
    expect(validateJobShape(peer, job, 'readable')).toBeNull();
    if (peer.startsWith('sidekiq')) expect(validateRetryFields(job)).toBeNull();
  });

  const heartbeats = ['sidekiq-6.4.1', 'sidekiq-7.3.10', 'sidekiq-8.1.7'].flatMap((set) =>
    ['worker-success', 'process-shutdown-inprogress', 'worker-failure-retry'].map((s) => [set, `${set}/${s}.json`] as const),
  );

  it.each(heartbeats)('%s heartbeat info and work entries (%s)', (set, file) => {
    const f = loadFixture(file);
    const version = peerOf('sidekiq', set.split('-')[1]!) as 'sidekiq6' | 'sidekiq7' | 'sidekiq8';
    let infos = 0;
    for (const c of f.commands) {
      const argv = c.argv.map(String);
      if (!/^(hset|hmset)$/i.test(argv[0]!)) continue;
      if (argv[2] === 'info') {
        const info = JSON.parse(argv[3]!) as ProcessInfoSidekiq;
        expect(validateProcessInfo(info)).toBeNull();
        expect(validateProcessInfo(info, version)).toBeNull();
        infos++;
      } else if (/:work(ers)?$/.test(argv[1]!)) {
        for (let i = 3; i < argv.length; i += 2) {
          const entry = JSON.parse(argv[i]!) as WorkEntrySidekiq;
          expect(validateWorkEntry(entry)).toBeNull();
          expect(decodeJob(entry.payload).className).toBeTypeOf('string');
        }
      }
    }
    expect(infos).toBeGreaterThan(0);
  });
});

describe('misfits are named by field', () => {
  const sk8 = { retry: true, queue: 'default', class: 'A', args: [], jid: '0123456789abcdef01234567', created_at: 1795874305758 };
  const verk = JSON.parse('{"args":"[1,2]","class":"ExampleWorker","created_at":null,"enqueued_at":1795872282,"error_backtrace":null,"error_message":null,"failed_at":null,"finished_at":null,"jid":"23267303753045632599","max_retry_count":5,"queue":"default","retried_at":null,"retry_count":0}') as JobVerk;

  it.each([
    ['sidekiq7', { ...sk8, args: 'x' }, 'args', 'args must be an array, got string'],
    ['sidekiq8', { ...sk8, enqueued_at: 1795872486.5 }, 'enqueued_at', 'enqueued_at must be an integer (epoch ms), got 1795872486.5'],
    ['sidekiq8', { ...sk8, created_at: 1795872486 }, 'created_at', 'created_at must be an integer (epoch ms), got 1795872486'],
    ['sidekiq7', { ...sk8 }, 'created_at', 'created_at must be float epoch seconds, got 1795874305758'],
    ['sidekiq7', { ...sk8, created_at: 1.5, retry: 'yes' }, 'retry', 'retry must be true, false or a non-negative integer, got string'],
    ['sidekiq7', { ...sk8, created_at: 1.5, queue: '' }, 'queue', 'queue must be a non-empty string (the queue name), got an empty string'],
    ['sidekiq7', { ...sk8, created_at: 1.5, tags: 'a' }, 'tags', 'tags must be an array, got string'],
    ['sidekiq8', { ...sk8, retry_count: 0 }, 'error_message', 'error_message must be present when retry_count is present (a failure entry carries error_message, error_class, failed_at)'],
    ['sidekiq8', { ...sk8, error_message: 'x', error_class: 'E', failed_at: 1795874305758, retry_count: 0, error_backtrace: 'not base64!' }, 'error_backtrace', 'error_backtrace must be Base64 text (zlib-deflated JSON array of lines), got "not base64!"'],
    ['verk', { ...verk, extra: 1 }, 'extra', 'extra is not a key of the Verk 1.7 job hash'],
    ['verk', { ...verk, jid: 'abc' }, 'jid', `jid must be a decimal-digit string (Verk's jid: two unsigned 32-bit integers printed in decimal), got "abc"`],
    ['verk', { ...verk, args: [1, 2] }, 'args', 'args must be a JSON string holding the argument array (e.g. "[1,2]"), got array'],
    ['verk', { ...verk, enqueued_at: 1795872282.5 }, 'enqueued_at', 'enqueued_at must be integer epoch seconds or null, got 1795872282.5'],
    ['exq', { args: [], class: 'A', enqueued_at: 1.5, jid: 'j', queue: 'q', retry: 25, created_at: 1 }, 'created_at', 'created_at is not a key of the Exq 0.23 job hash'],
    ['exq', { args: [], class: 'A', enqueued_at: 1.5, jid: 'j', queue: 'q' }, 'retry', 'retry must be an integer number of retries, got nothing (the field is missing)'],
  ] as const)('%s: %s', (peer, job, field, message) => {
    expect(validateJobShape(peer, job)).toEqual({ field, message });
  });

  it('is tolerant where the readers are: a Float created_at in a Sidekiq 8 job, extra keys', () => {
    const mixed = { ...sk8, created_at: 1795872486.5, custom: { a: 1 } };
    expect(validateJobShape('sidekiq8', mixed)).not.toBeNull();
    expect(validateJobShape('sidekiq8', mixed, 'readable')).toBeNull();
    expect(validateJobShape('verk', { args: [1], class: 'A', extra: 1 }, 'readable')).toBeNull();
  });

  it('names nested fields of the process info', () => {
    const info = { hostname: 'vm', started_at: 1.5, pid: 1, tag: '', capsules: { default: { concurrency: 2, mode: 'fifo', weights: {} } }, queues: [], labels: [], identity: 'vm:1:abc' };
    expect(validateProcessInfo(info)).toEqual({ field: 'capsules.default.mode', message: 'capsules.default.mode must be one of strict, weighted, random, got "fifo"' });
    expect(validateProcessInfo({ ...info, capsules: {}, queues: ['a', 3] })).toEqual({ field: 'queues[1]', message: 'queues[1] must be string, got 3' });
    const { capsules: _c, ...v6 } = info;
    expect(validateProcessInfo({ ...v6, concurrency: 1 }, 'sidekiq6')).toBeNull();
    expect(validateProcessInfo({ ...v6, concurrency: 1, version: '7.3.10' }, 'sidekiq6')).toEqual({ field: 'version', message: 'version is not a key of the Sidekiq process info' });
  });

  it('checks the work entry', () => {
    expect(validateWorkEntry({ queue: 'q', payload: '{}', run_at: 1795874396.5 })).toEqual({ field: 'run_at', message: 'run_at must be integer epoch seconds, got 1795874396.5' });
    expect(validateWorkEntry({ queue: 'q', payload: { class: 'A' }, run_at: 1 })?.message).toBe('payload must be the job JSON as a string (double-encoded), got object');
  });

  it('narrows types with isJobShape', () => {
    const v: unknown = { ...sk8 };
    if (!isJobShape('sidekiq8', v)) throw new Error('expected a Sidekiq 8 job');
    const created: number = v.created_at; // JobSidekiq8: created_at is a number
    const typed: JobSidekiq8 = v;
    expect(created).toBe(typed.created_at);
  });
});
