/**
 * The bad-input corpus in fixtures/malformed/: one file per case, holding the raw bytes exactly
 * as they would sit in a Redis list, plus index.json saying what decodeJob must do with each
 * (the WireError code and a fragment of its message, or that it decodes). The engine and the
 * fault harness push these files into queues; test/wire/malformed.test.ts checks both the
 * expectations and that the committed files are what this script writes.
 *
 * The two large cases (a 10 MB payload, args nested 10,000 levels) are not committed: this
 * script writes them to fixtures/malformed/generated/ (git-ignored), and index.json lists them
 * with `generated: true`, their size and their SHA-256.
 *
 *   npx tsx scripts/make-malformed.ts
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Peer, WireErrorCode } from '../src/wire/index.js';

export const MALFORMED_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'malformed');

export interface MalformedCase {
  name: string;
  /** Path below fixtures/malformed/. */
  file: string;
  description: string;
  /** The WireError code decodeJob throws, or null when the payload is valid and must decode. */
  code: WireErrorCode | null;
  /** A fragment the error message must contain. */
  contains?: string;
  /** The field the error names. */
  field?: string;
  /** For a valid payload: what it decodes to. */
  decodes?: { dialect: Peer; class: string };
  /** Not committed; written by this script. */
  generated?: boolean;
  bytes: () => Buffer;
}

const text = (s: string) => () => Buffer.from(s, 'utf8');
const sidekiq = (fields: string) => text(`{"retry":true,"queue":"default",${fields},"jid":"609f1c7149d0d2afa5d6ce05","created_at":1795872486.590039,"enqueued_at":1795872486.5902436}`);
const verk = (args: string) => text(`{"args":${JSON.stringify(args)},"class":"ExampleWorker","created_at":null,"enqueued_at":1795872282,"error_backtrace":null,"error_message":null,"failed_at":null,"finished_at":null,"jid":"23267303753045632599","max_retry_count":5,"queue":"default","retried_at":null,"retry_count":0}`);

export const CASES: MalformedCase[] = [
  { name: 'invalid-json', file: 'invalid-json.bin', description: 'A job hash with a trailing comma.', code: 'invalid_json', contains: 'payload is not valid JSON', bytes: text('{"class":"HardWorker","args":[1,2],}') },
  { name: 'not-json', file: 'not-json.bin', description: 'Plain text, as in the Verk malformed-job fixture.', code: 'invalid_json', contains: 'unexpected token at offset 0', bytes: text('this is not json') },
  { name: 'truncated-json', file: 'truncated-json.bin', description: 'A Sidekiq payload cut off inside the jid.', code: 'invalid_json', contains: 'unterminated string', bytes: text('{"retry":true,"queue":"default","class":"HardWorker","args":[1,"two"],"jid":"609f1c71') },
  { name: 'empty', file: 'empty.bin', description: 'An empty list member.', code: 'invalid_json', contains: 'unexpected end of input', bytes: text('') },
  { name: 'nan-token', file: 'nan-token.bin', description: 'A bare NaN token (Ruby and Jason never write one; JSON has none).', code: 'invalid_json', contains: 'unexpected token', bytes: text('{"class":"HardWorker","args":[NaN]}') },
  { name: 'invalid-utf8', file: 'invalid-utf8.bin', description: 'A job whose args string holds the bytes C3 28 (not UTF-8).', code: 'invalid_utf8', contains: 'not valid UTF-8', bytes: () => Buffer.concat([Buffer.from('{"class":"HardWorker","args":["'), Buffer.from([0xc3, 0x28]), Buffer.from('"]}')]) },
  { name: 'not-an-object', file: 'not-an-object.json', description: 'A JSON array where a job hash belongs.', code: 'invalid_job', contains: 'payload must be a JSON object (a job hash), got array', bytes: text('[1,2]') },
  { name: 'missing-class', file: 'missing-class.json', description: 'No class key.', code: 'invalid_job', field: 'class', contains: 'class must be a non-empty string naming the job class, got nothing (the field is missing)', bytes: text('{"retry":true,"queue":"default","args":[1],"jid":"609f1c7149d0d2afa5d6ce05","created_at":1795872486.590039}') },
  { name: 'class-number', file: 'class-number.json', description: 'class is a number.', code: 'invalid_job', field: 'class', contains: 'class must be a non-empty string naming the job class, got 42', bytes: sidekiq('"class":42,"args":[1]') },
  { name: 'class-empty', file: 'class-empty.json', description: 'class is an empty string.', code: 'invalid_job', field: 'class', contains: 'got an empty string', bytes: sidekiq('"class":"","args":[1]') },
  { name: 'unknown-class', file: 'unknown-class.json', description: 'A well-formed job naming a class no process defines: it decodes; the runner must fail it (retry, then dead) rather than crash.', code: null, decodes: { dialect: 'sidekiq7', class: 'NoSuchWorker' }, bytes: sidekiq('"class":"NoSuchWorker","args":[1]') },
  { name: 'class-proto', file: 'class-proto.json', description: 'class "__proto__": it decodes; a registry lookup must not reach Object.prototype.', code: null, decodes: { dialect: 'sidekiq7', class: '__proto__' }, bytes: sidekiq('"class":"__proto__","args":[]') },
  { name: 'class-constructor', file: 'class-constructor.json', description: 'class "constructor": it decodes; a registry lookup must not find Object.', code: null, decodes: { dialect: 'sidekiq7', class: 'constructor' }, bytes: sidekiq('"class":"constructor","args":[]') },
  { name: 'args-not-array', file: 'args-not-array.json', description: 'args is an object.', code: 'invalid_job', field: 'args', contains: 'args must be an array, got object', bytes: sidekiq('"class":"HardWorker","args":{"a":1}') },
  { name: 'args-number', file: 'args-number.json', description: 'args is a number.', code: 'invalid_job', field: 'args', contains: 'args must be an array, got 5', bytes: sidekiq('"class":"HardWorker","args":5') },
  { name: 'verk-args-not-json', file: 'verk-args-not-json.json', description: "A Verk job whose args string is not JSON (Verk's second encoding cut short).", code: 'invalid_job', field: 'args', contains: 'args is a string but not JSON', bytes: verk('[1,2') },
  { name: 'verk-args-object', file: 'verk-args-object.json', description: 'A Verk job whose args string holds an object (Verk itself would run it with []).', code: 'invalid_job', field: 'args', contains: 'got a string holding object', bytes: verk('{"a":1}') },
  { name: 'queue-number', file: 'queue-number.json', description: 'queue is a number.', code: 'invalid_job', field: 'queue', contains: 'queue must be a string, got 7', bytes: text('{"retry":true,"queue":7,"class":"HardWorker","args":[]}') },
  { name: 'jid-number', file: 'jid-number.json', description: 'jid is a number.', code: 'invalid_job', field: 'jid', contains: 'jid must be a string, got 123', bytes: text('{"retry":true,"queue":"default","class":"HardWorker","args":[],"jid":123}') },
  { name: 'big-integers', file: 'big-integers.json', description: 'Valid: integers above 2^53 (2^62, -2^63, 2^64, 2^53+1) must decode exactly (BigInt) and re-encode to the same digits.', code: null, decodes: { dialect: 'sidekiq7', class: 'HardWorker' }, bytes: sidekiq('"class":"HardWorker","args":[4611686018427387904,-9223372036854775808,18446744073709551616,9007199254740993,{"id":4611686018427387905}]') },
  { name: 'nan-like-strings', file: 'nan-like-strings.json', description: 'Valid: strings that look like non-finite numbers stay strings.', code: null, decodes: { dialect: 'sidekiq7', class: 'HardWorker' }, bytes: sidekiq('"class":"HardWorker","args":["NaN","Infinity","-Infinity","1e999","-0","0x10"]') },
  { name: 'proto-key-args', file: 'proto-key-args.json', description: 'Valid: __proto__ and constructor as keys inside args are data, never prototype changes.', code: null, decodes: { dialect: 'sidekiq7', class: 'HardWorker' }, bytes: sidekiq('"class":"HardWorker","args":[{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}]') },
  { name: 'mixed-timestamps-sidekiq7-8', file: 'mixed-timestamps-sidekiq7-8.json', description: 'Valid: a Sidekiq 7 job retried under Sidekiq 8 (Float-second created_at/enqueued_at/failed_at, Int-ms retried_at); Sidekiq 8 reads both.', code: null, decodes: { dialect: 'sidekiq8', class: 'HardWorker' }, bytes: text('{"retry":true,"queue":"default","class":"HardWorker","args":[1],"jid":"609f1c7149d0d2afa5d6ce05","created_at":1795872486.590039,"enqueued_at":1795872486.5902436,"error_message":"boom","error_class":"RuntimeError","failed_at":1795872487.1,"retry_count":1,"retried_at":1795874305758}') },
  {
    name: 'huge-10mb', file: 'generated/huge-10mb.json', generated: true,
    description: 'A valid job whose one argument is a 10 MiB string: over the default 8 MiB limit (it decodes with maxBytes: 0).',
    code: 'too_large', contains: 'over the 8388608-byte limit',
    bytes: () => Buffer.from(`{"retry":true,"queue":"default","class":"HardWorker","args":["${'x'.repeat(10 * 1024 * 1024)}"],"jid":"609f1c7149d0d2afa5d6ce05","created_at":1795872486.590039}`),
  },
  {
    name: 'deep-nesting-10000', file: 'generated/deep-nesting-10000.json', generated: true,
    description: 'args nested 10,000 arrays deep: valid JSON that JSON.parse accepts, refused beyond the 512-level limit.',
    code: 'invalid_json', contains: 'nested deeper than 512 levels',
    bytes: () => Buffer.from(`{"class":"HardWorker","args":${'['.repeat(10_000)}${']'.repeat(10_000)}}`),
  },
];

export interface IndexEntry extends Omit<MalformedCase, 'bytes'> {
  size: number;
  sha256: string;
}

/** index.json's entries, in CASES order. */
export function indexEntries(): IndexEntry[] {
  return CASES.map(({ bytes, ...c }) => {
    const b = bytes();
    return { ...c, size: b.length, sha256: createHash('sha256').update(b).digest('hex') };
  });
}

export function indexJson(): string {
  return `${JSON.stringify(indexEntries(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(join(MALFORMED_DIR, 'generated'), { recursive: true });
  for (const c of CASES) writeFileSync(join(MALFORMED_DIR, c.file), c.bytes());
  writeFileSync(join(MALFORMED_DIR, 'index.json'), indexJson());
  writeFileSync(join(MALFORMED_DIR, '.gitignore'), 'generated/\n');
  console.log(`wrote ${CASES.length} cases to ${MALFORMED_DIR}`);
}
