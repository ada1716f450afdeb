/**
 * The shapes a `kiqgate worker --require` module may have (ESM and CommonJS), where its
 * startup/shutdown hooks are found, that those names never become job classes, and the one-line
 * refusals: no handlers, a misspelt key beside `handlers`, a hook that is not a function, a hook
 * exported twice, a hook name in a Map.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/cli-error.js';
import { loadWorkersModule } from '../../src/cli/workers-module.js';

const dir = mkdtempSync(join(tmpdir(), 'kiqgate-workers-module-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(ext: 'mjs' | 'cjs', text: string): string {
  const path = join(dir, `m${n++}.${ext}`);
  writeFileSync(path, text);
  return path;
}

const classes = (h: Map<string, unknown> | Record<string, unknown>) => (h instanceof Map ? [...h.keys()] : Object.keys(h)).sort();

describe('workers module shapes', () => {
  it.each([
    ['ESM, export default { handlers, startup, shutdown }', 'mjs', 'export default { handlers: { A: () => {}, B: { handler: () => {} } }, startup() {}, async shutdown() {} };', ['startup', 'shutdown']],
    ['ESM, a class table with the hooks beside the classes', 'mjs', 'export default { A: () => {}, B: () => {}, startup() {}, shutdown() {} };', ['startup', 'shutdown']],
    ['ESM, a class table as default and a named shutdown', 'mjs', 'export default { A: () => {}, B: () => {} };\nexport async function shutdown() {}', ['shutdown']],
    ['ESM, a Map as default (no hooks)', 'mjs', 'export default new Map([["A", () => {}], ["B", () => {}]]);', []],
    ['ESM, named handler exports and hooks', 'mjs', 'export const A = () => {};\nexport const B = { handler: () => {} };\nexport function startup() {}\nexport const note = "not a handler";', ['startup']],
    ['ESM, a named handlers table and hooks', 'mjs', 'export const handlers = { A: () => {}, B: () => {} };\nexport async function startup() {}\nexport async function shutdown() {}', ['startup', 'shutdown']],
    ['CommonJS, module.exports = { handlers, startup, shutdown }', 'cjs', 'module.exports = { handlers: { A: () => {}, B: () => {} }, startup: async () => {}, shutdown: async () => {} };', ['startup', 'shutdown']],
    ['CommonJS, exports.<Class> and exports.shutdown', 'cjs', 'exports.A = () => {};\nexports.B = () => {};\nexports.shutdown = () => {};', ['shutdown']],
  ] as const)('%s', async (_name, ext, text, hooks) => {
    const m = await loadWorkersModule(file(ext, text));
    expect(classes(m.handlers)).toEqual(['A', 'B']); // startup/shutdown/handlers are never job classes
    for (const hook of ['startup', 'shutdown'] as const) expect(typeof m[hook]).toBe((hooks as readonly string[]).includes(hook) ? 'function' : 'undefined');
  });

  it.each([
    ['export default {}', 'mjs', 'export default {};', /exports no job handlers, so the worker would fail every job; export them as export default \{ handlers: /],
    ['only hooks', 'mjs', 'export default { handlers: {}, startup() {}, shutdown() {} };', /exports no job handlers/],
    ['only hooks, as named exports', 'mjs', 'export function startup() {}\nexport function shutdown() {}', /exports no job handlers/],
    ['nothing at all (CommonJS)', 'cjs', 'module.exports = {};', /exports no job handlers/],
    ['a misspelt hook beside handlers', 'mjs', 'export default { handlers: { A: () => {} }, shutDown() {} };', /unexpected key 'shutDown' beside 'handlers' in the default export \(expected handlers, startup, shutdown\)/],
    ['a hook that is not a function', 'mjs', 'export default { A: () => {}, startup: { handler: () => {} } };', /'startup' must be a function \(the startup hook\), got object/],
    ['a hook exported twice', 'mjs', 'export default { A: () => {}, shutdown() {} };\nexport function shutdown() {}', /'shutdown' is exported twice/],
    ['a hook name in a Map', 'mjs', 'export default new Map([["A", () => {}], ["startup", () => {}]]);', /'startup' in the default Map is a hook name, not a job class; export default \{ handlers: yourMap, startup \}/],
  ] as const)('refuses %s in one line', async (_name, ext, text, message) => {
    const err = await loadWorkersModule(file(ext, text)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toMatch(message);
    expect((err as CliError).message).not.toContain('\n');
  });
});
