/**
 * The wire shapes, checked against the JSON Schemas in `schemas/` (the single source of truth;
 * the TypeScript types in `generated/schema-types.ts` are generated from the same files).
 *
 * The schema documents are imported as JSON modules, so they are part of the module graph: tsx
 * and vitest load them from `schemas/` next to `src/`, and tsup inlines them into the ESM and
 * CommonJS builds in `dist/`. No path is resolved at run time, so the built package works
 * wherever it is installed (the `schemas/` folder also ships for other tools to read).
 *
 * Each validator is compiled once, on first use, with Ajv's 2020-12 build. A job schema has two
 * views: the root, the shape the peer itself *writes* (strict: Sidekiq 8's integer-ms
 * timestamps, Verk's 13 keys), and `$defs/readable`, what the peer's consumer *tolerates* (a
 * Float `created_at` in a Sidekiq 8 job, extra keys). decodeJob checks the readable view.
 */
import { Ajv2020, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import jobExq from '../../schemas/job.exq.json' with { type: 'json' };
import jobResque from '../../schemas/job.resque.json' with { type: 'json' };
import jobSidekiq from '../../schemas/job.sidekiq.json' with { type: 'json' };
import jobSidekiq8 from '../../schemas/job.sidekiq8.json' with { type: 'json' };
import jobVerk from '../../schemas/job.verk.json' with { type: 'json' };
import processInfoSidekiq from '../../schemas/process-info.sidekiq.json' with { type: 'json' };
import retryFieldsSidekiq from '../../schemas/retry-fields.sidekiq.json' with { type: 'json' };
import workEntrySidekiq from '../../schemas/work-entry.sidekiq.json' with { type: 'json' };
import type {
  JobExq, JobExqReadable, JobResque, JobResqueReadable, JobSidekiq, JobSidekiq8, JobSidekiqReadable, JobVerk, JobVerkReadable,
  ProcessInfoSidekiq, RetryFieldsSidekiq, WorkEntrySidekiq,
} from './generated/schema-types.js';
import { dialectFor } from './dialects/index.js';
import type { Peer } from './peers.js';

/** Every schema document, by file name without `.json`. */
export const SCHEMA_DOCUMENTS = {
  'job.sidekiq': jobSidekiq,
  'job.sidekiq8': jobSidekiq8,
  'job.verk': jobVerk,
  'job.exq': jobExq,
  'job.resque': jobResque,
  'retry-fields.sidekiq': retryFieldsSidekiq,
  'process-info.sidekiq': processInfoSidekiq,
  'work-entry.sidekiq': workEntrySidekiq,
} as const satisfies Record<string, AnySchemaObject>;

export type SchemaName = keyof typeof SCHEMA_DOCUMENTS;

/** A job hash as each peer writes it. */
export interface WrittenJob { sidekiq6: JobSidekiq; sidekiq7: JobSidekiq; sidekiq8: JobSidekiq8; verk: JobVerk; exq: JobExq; resque: JobResque }
/** A job hash as each peer's consumer accepts it. */
export interface ReadableJob { sidekiq6: JobSidekiqReadable; sidekiq7: JobSidekiqReadable; sidekiq8: JobSidekiqReadable; verk: JobVerkReadable; exq: JobExqReadable; resque: JobResqueReadable }

/** `written`: the shape the peer writes (the schema root); `readable`: what its consumer tolerates. */
export type ShapeView = 'written' | 'readable';

/** Why a value does not fit its schema: the field at fault (`args`, `capsules.default.mode`) and a sentence. */
export interface ShapeError {
  field: string;
  /** E.g. `args must be an array, got string`, `enqueued_at must be an integer (epoch ms), got 1795872486.5`. */
  message: string;
}

/** The JSON Schema document of a peer's job hash (Sidekiq 6 and 7 share `job.sidekiq`). */
export function schemaFor(peer: Peer): AnySchemaObject {
  return SCHEMA_DOCUMENTS[dialectFor(peer).schemas.written];
}

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function instance(): Ajv2020 {
  if (ajv) return ajv;
  // verbose: errors carry the failing value and its schema (only on failure, so the happy path
  // pays nothing for it); `x-expected` is our annotation naming the expectation in plain words.
  ajv = new Ajv2020({ allErrors: false, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
  ajv.addKeyword('x-expected');
  for (const doc of Object.values(SCHEMA_DOCUMENTS)) ajv.addSchema(doc as AnySchemaObject);
  return ajv;
}

/** The compiled validator of a schema (or of one of its `$defs` with `#/$defs/name`), compiled once. */
export function validatorFor(name: SchemaName, fragment = ''): ValidateFunction {
  const key = name + fragment;
  let v = compiled.get(key);
  if (!v) {
    const id = `${(SCHEMA_DOCUMENTS[name] as AnySchemaObject).$id as string}${fragment}`;
    v = instance().getSchema(id);
    if (!v) throw new Error(`schema ${id} is not defined`);
    compiled.set(key, v);
  }
  return v;
}

/** The schema of a peer's job in a view (Sidekiq 8's consumer reads what 7's does: job.sidekiq). */
function jobSchemaName(peer: Peer, view: ShapeView): SchemaName {
  return dialectFor(peer).schemas[view === 'readable' ? 'readable' : 'written'];
}

/**
 * Checks a plain job hash (a JSON.parse result) against the peer's schema. Returns null when it
 * fits, else the first field at fault. `view` defaults to the shape the peer writes.
 */
export function validateJobShape(peer: Peer, job: unknown, view: ShapeView = 'written'): ShapeError | null {
  const name = jobSchemaName(peer, view);
  const v = validatorFor(name, view === 'readable' ? '#/$defs/readable' : '');
  return v(job) ? null : shapeError(v, name);
}

/** Type guard form of {@link validateJobShape}. */
export function isJobShape<P extends Peer, V extends ShapeView = 'written'>(peer: P, job: unknown, view?: V): job is V extends 'readable' ? ReadableJob[P] : WrittenJob[P] {
  return validateJobShape(peer, job, view) === null;
}

/** Checks the retry/dead fields of a Sidekiq failure entry. */
export function validateRetryFields(entry: unknown): ShapeError | null {
  return check('retry-fields.sidekiq', entry);
}

/** Checks a Sidekiq process `info` JSON: any version, or exactly the keys `peer` writes. */
export function validateProcessInfo(info: unknown, peer?: 'sidekiq6' | 'sidekiq7' | 'sidekiq8'): ShapeError | null {
  return check('process-info.sidekiq', info, peer ? `#/$defs/${peer}` : '');
}

/** Checks one `<identity>:work` value (queue, payload as a JSON string, run_at in integer seconds). */
export function validateWorkEntry(entry: unknown): ShapeError | null {
  return check('work-entry.sidekiq', entry);
}

export type { ProcessInfoSidekiq, RetryFieldsSidekiq, WorkEntrySidekiq };

function check(name: SchemaName, value: unknown, fragment = ''): ShapeError | null {
  const v = validatorFor(name, fragment);
  return v(value) ? null : shapeError(v, name);
}

// ---- error messages ------------------------------------------------------------------------

function shapeError(v: ValidateFunction, name: SchemaName): ShapeError {
  const err = v.errors?.[0];
  if (!err) return { field: '', message: 'value does not match its schema' };
  return describeError(err, name);
}

/** `/args/0/when` → `args[0].when`. */
function fieldPath(instancePath: string): string {
  let out = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : out ? `.${seg}` : seg;
  }
  return out;
}

function join(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

/** What a schema expects, in words: its `x-expected`, else (following a `$ref`) the target's. */
function expected(schema: unknown, name: SchemaName, fallback: string): string {
  if (schema === null || typeof schema !== 'object') return fallback;
  const s = schema as AnySchemaObject;
  if (typeof s['x-expected'] === 'string') return s['x-expected'];
  if (typeof s.$ref === 'string') {
    const base = (SCHEMA_DOCUMENTS[name] as AnySchemaObject).$id as string;
    const target = instance().getSchema(new URL(s.$ref, base).href)?.schema;
    return expected(target, name, fallback);
  }
  return fallback;
}

/** The offending value, in words: a type for strings and containers, the value for scalars. */
function got(data: unknown, keyword: string): string {
  if (data === undefined) return 'nothing (the field is missing)';
  if (data === null) return 'null';
  if (typeof data === 'string') {
    if (data === '') return 'an empty string';
    if (keyword === 'type') return 'string';
    return JSON.stringify(data.length > 60 ? `${data.slice(0, 60)}…` : data);
  }
  if (typeof data === 'number' || typeof data === 'boolean') return String(data);
  return Array.isArray(data) ? 'array' : 'object';
}

function describeError(e: ErrorObject, name: SchemaName): ShapeError {
  const at = fieldPath(e.instancePath);
  const parent = e.parentSchema as AnySchemaObject | undefined;
  const p = e.params as Record<string, unknown>;
  const ajvWords = (e.message ?? 'valid').replace(/^must (be )?/, '');
  if (e.propertyName !== undefined) {
    const field = join(at, e.propertyName);
    return { field, message: `${field} is not a key of ${title(name)}` };
  }
  switch (e.keyword) {
    case 'required': {
      const field = join(at, String(p.missingProperty));
      const props = parent?.properties as Record<string, unknown> | undefined;
      return { field, message: `${field} must be ${expected(props?.[String(p.missingProperty)], name, 'present')}, got nothing (the field is missing)` };
    }
    case 'dependentRequired': {
      const field = join(at, String(p.missingProperty));
      return { field, message: `${field} must be present when ${String(p.property)} is present (a failure entry carries ${String(p.deps)})` };
    }
    case 'additionalProperties': {
      const field = join(at, String(p.additionalProperty));
      return { field, message: `${field} is not a key of ${title(name)}` };
    }
    default: {
      const field = at || 'payload';
      return { field, message: `${field} must be ${expected(parent, name, ajvWords)}, got ${got(e.data, e.keyword)}` };
    }
  }
}

function title(name: SchemaName): string {
  return `the ${String((SCHEMA_DOCUMENTS[name] as AnySchemaObject).title)}`;
}
