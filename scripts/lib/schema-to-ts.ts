/**
 * A small JSON Schema → TypeScript generator for the subset `schemas/` uses: type (one or a
 * list), properties, required, additionalProperties, items, enum, const, allOf, anyOf, oneOf,
 * and $ref to a document or to its `$defs` (in the same file or another). Validation-only
 * keywords (minimum, pattern, dependentRequired, propertyNames, ...) do not change the type and
 * are skipped. It exists because json-schema-to-typescript is not a dependency of this project;
 * its output is committed and a test regenerates it in memory to catch a stale file.
 *
 * Type names come from file names: `job.sidekiq8.json` → `JobSidekiq8`, and its
 * `$defs/readable` → `JobSidekiq8Readable`.
 */

type Schema = boolean | { [key: string]: unknown };

export interface SchemaFile {
  /** File name, e.g. `job.sidekiq.json`. */
  file: string;
  schema: { [key: string]: unknown };
}

function pascal(s: string): string {
  return s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

export function typeNameOf(file: string, def?: string): string {
  const base = pascal(file.replace(/\.json$/, ''));
  return def === undefined ? base : base + pascal(def);
}

function isObj(s: unknown): s is { [key: string]: unknown } {
  return s !== null && typeof s === 'object' && !Array.isArray(s);
}

class Generator {
  private readonly byId = new Map<string, string>();

  constructor(private readonly files: SchemaFile[]) {
    for (const f of files) {
      const id = f.schema.$id;
      if (typeof id !== 'string') throw new Error(`${f.file}: missing $id`);
      this.byId.set(id, f.file);
    }
  }

  /** `$ref` → the generated type name. */
  private refName(ref: string, file: SchemaFile): string {
    const base = file.schema.$id as string;
    const url = new URL(ref, base);
    const docId = url.href.replace(/#.*$/, '');
    const target = this.byId.get(docId);
    if (!target) throw new Error(`${file.file}: $ref ${ref} names no known schema`);
    const frag = decodeURIComponent(url.hash.replace(/^#/, ''));
    if (frag === '' || frag === '/') return typeNameOf(target);
    const m = /^\/\$defs\/([^/]+)$/.exec(frag);
    if (!m) throw new Error(`${file.file}: $ref ${ref}: only '#' and '#/$defs/<name>' are supported`);
    return typeNameOf(target, m[1]!);
  }

  type(s: Schema, file: SchemaFile, indent: string): string {
    if (s === true) return 'unknown';
    if (s === false) return 'never';
    const parts: string[] = [];
    if (typeof s.$ref === 'string') parts.push(this.refName(s.$ref, file));
    if (Array.isArray(s.allOf)) for (const sub of s.allOf as Schema[]) parts.push(this.type(sub, file, indent));
    for (const k of ['anyOf', 'oneOf'] as const) {
      if (Array.isArray(s[k])) parts.push(`(${(s[k] as Schema[]).map((sub) => this.type(sub, file, indent)).join(' | ')})`);
    }
    const own = this.ownType(s, file, indent);
    if (own !== undefined) parts.push(own);
    if (parts.length === 0) return 'unknown';
    return parts.join(' & ');
  }

  /** The type from this schema's own type/enum/const/properties keywords, or undefined if it has none. */
  private ownType(s: { [key: string]: unknown }, file: SchemaFile, indent: string): string | undefined {
    if ('const' in s) return JSON.stringify(s.const);
    if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
    const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === 'string' ? [s.type] : [];
    const objectish = types.length === 0 && (isObj(s.properties) || Array.isArray(s.required) || s.additionalProperties !== undefined);
    // Without a type of its own, a schema next to a $ref/allOf only narrows; an object literal is
    // still needed when it lists properties or required keys.
    if (types.length === 0 && !objectish) return undefined;
    const out = (objectish ? ['object'] : types).map((t) => {
      switch (t) {
        case 'string': return 'string';
        case 'integer':
        case 'number': return 'number';
        case 'boolean': return 'boolean';
        case 'null': return 'null';
        case 'array': return s.items === undefined ? 'unknown[]' : `Array<${this.type(s.items as Schema, file, indent)}>`;
        case 'object': return this.objectType(s, file, indent);
        default: throw new Error(`${file.file}: unsupported type ${t}`);
      }
    });
    return out.length === 1 ? out[0]! : out.join(' | ');
  }

  private objectType(s: { [key: string]: unknown }, file: SchemaFile, indent: string): string {
    const props = isObj(s.properties) ? (s.properties as { [key: string]: Schema }) : {};
    const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    const inner = `${indent}  `;
    const lines: string[] = [];
    for (const [key, sub] of Object.entries(props)) {
      const desc = isObj(sub) && typeof sub.description === 'string' ? sub.description : undefined;
      if (desc) lines.push(`${inner}/** ${desc.replace(/\*\//g, '*\\/')} */`);
      lines.push(`${inner}${JSON.stringify(key)}${required.has(key) ? '' : '?'}: ${this.type(sub, file, inner)};`);
    }
    for (const key of required) if (!(key in props)) lines.push(`${inner}${JSON.stringify(key)}: unknown;`);
    const ap = s.additionalProperties;
    if (ap !== false) {
      // A typed index signature must cover the named properties too, so it is only typed when there are none.
      const valueType = isObj(ap) && Object.keys(props).length === 0 ? this.type(ap, file, inner) : 'unknown';
      lines.push(`${inner}[key: string]: ${valueType};`);
    }
    return lines.length === 0 ? 'Record<string, never>' : `{\n${lines.join('\n')}\n${indent}}`;
  }

  declaration(name: string, s: Schema, file: SchemaFile, where: string): string {
    const doc: string[] = [];
    if (isObj(s)) {
      if (typeof s.title === 'string') doc.push(s.title);
      if (typeof s.description === 'string') doc.push(s.description);
    }
    doc.push(`From schemas/${where}.`);
    const comment = `/**\n${doc.map((d) => ` * ${d.replace(/\*\//g, '*\\/')}`).join('\n *\n')}\n */`;
    return `${comment}\nexport type ${name} = ${this.type(s, file, '')};\n`;
  }

  generate(): string {
    const out: string[] = [
      '/**',
      ' * GENERATED by scripts/gen-schema-types.ts from schemas/*.json: do not edit by hand.',
      ' * Run `npx tsx scripts/gen-schema-types.ts` after changing a schema; test/wire/schema-types.test.ts',
      ' * fails when this file is stale.',
      ' */',
      '/* eslint-disable */',
      '',
    ];
    for (const f of this.files) {
      out.push(this.declaration(typeNameOf(f.file), f.schema, f, f.file));
      const defs = isObj(f.schema.$defs) ? (f.schema.$defs as { [key: string]: Schema }) : {};
      for (const [name, def] of Object.entries(defs)) out.push(this.declaration(typeNameOf(f.file, name), def, f, `${f.file}#/$defs/${name}`));
    }
    return out.join('\n');
  }
}

/** The TypeScript source for the given schema files (in the order given; sort them first for a stable file). */
export function generateSchemaTypes(files: SchemaFile[]): string {
  return new Generator(files).generate();
}
