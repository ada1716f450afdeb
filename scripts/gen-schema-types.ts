/**
 * Writes src/wire/generated/schema-types.ts from schemas/*.json, so the TypeScript types of the
 * wire shapes are never written twice by hand.
 *
 *   npx tsx scripts/gen-schema-types.ts          # regenerate
 *   npx tsx scripts/gen-schema-types.ts --check  # exit 1 if the committed file is stale
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SchemaFile, generateSchemaTypes } from './lib/schema-to-ts.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMAS_DIR = join(ROOT, 'schemas');
export const GENERATED_FILE = join(ROOT, 'src', 'wire', 'generated', 'schema-types.ts');

/** The schema files, sorted by name. */
export function readSchemaFiles(dir = SCHEMAS_DIR): SchemaFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, schema: JSON.parse(readFileSync(join(dir, file), 'utf8')) as SchemaFile['schema'] }));
}

export function renderSchemaTypes(): string {
  return generateSchemaTypes(readSchemaFiles());
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = renderSchemaTypes();
  if (process.argv.includes('--check')) {
    const current = readFileSync(GENERATED_FILE, 'utf8');
    if (current !== text) {
      console.error(`${GENERATED_FILE} is stale: run npx tsx scripts/gen-schema-types.ts`);
      process.exit(1);
    }
    console.log('schema types are up to date');
  } else {
    writeFileSync(GENERATED_FILE, text);
    console.log(`wrote ${GENERATED_FILE}`);
  }
}
