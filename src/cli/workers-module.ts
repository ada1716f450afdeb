/**
 * The `--require` workers module of `kiqgate worker`: its handlers and its lifecycle hooks, read
 * from whichever export shape the module uses, with a one-line error for a module that would run
 * nothing (no job class) or hide a mistake (a misspelt hook, a hook that is not a function).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HandlerTable, WorkerHooks } from '../engine/index.js';
import type { Handler, HandlerDefinition } from '../engine/registry.js';
import { explainThrown } from '../support/describe-error.js';
import { redactText } from '../support/redact.js';
import { CliError } from './cli-error.js';

function isHandlerLike(v: unknown): v is Handler | HandlerDefinition {
  return typeof v === 'function' || (v !== null && typeof v === 'object' && typeof (v as HandlerDefinition).handler === 'function');
}

/** A handler table as the `handlers` of a workers module: a Map, or an object that is not itself a handler. */
function isTable(v: unknown): v is HandlerTable {
  return v instanceof Map || (v !== null && typeof v === 'object' && !Array.isArray(v) && !isHandlerLike(v));
}

/** What the worker runs from a `--require` module. */
export interface WorkersModule extends WorkerHooks {
  handlers: HandlerTable;
}

const HOOKS = ['startup', 'shutdown'] as const;
const isHookName = (k: string): boolean => (HOOKS as readonly string[]).includes(k);
const SHAPES = 'export default { handlers: { ClassName: handler }, startup, shutdown }, an object or Map of class name → handler, or named handler exports';

/**
 * Loads the `--require` module. Its shapes (a CommonJS `module.exports` is its `default`):
 *
 * 1. `default` is `{ handlers, startup?, shutdown? }`, `handlers` a Map or an object of class
 *    name → handler (it has a `handlers` key whose value is a table, not a handler); any other
 *    key is refused, so a misspelt hook is not silently dropped;
 * 2. `default` is an object of class name → handler (own enumerable properties); its
 *    `startup` and `shutdown` keys are the hooks, never job classes;
 * 3. `default` is a Map of class name → handler (a `startup`/`shutdown` key is refused);
 * 4. no object `default`: the named exports — `handlers` (a table) or the named exports that
 *    are handlers — and `startup`/`shutdown` as hooks.
 * With shapes 1-3, `startup`/`shutdown` may also be named exports (not both ways at once).
 *
 * A module with no job class at all is refused: the worker would fail every job it fetched.
 * Hooks are functions, async or not (see WorkerHooks for when they run).
 */
export async function loadWorkersModule(path: string): Promise<WorkersModule> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (err) {
    throw new CliError(`cannot load --require ${path}: ${redactText(explainThrown(err))}`);
  }
  const def = mod.default;
  let handlers: HandlerTable;
  let source: Record<string, unknown>; // where the hooks are
  if (def instanceof Map) {
    for (const hook of HOOKS) {
      if (def.has(hook)) throw new CliError(`--require ${path}: '${hook}' in the default Map is a hook name, not a job class; export default { handlers: yourMap, ${hook} }`);
    }
    handlers = def as HandlerTable;
    source = {};
  } else if (def !== null && typeof def === 'object' && Object.hasOwn(def, 'handlers') && isTable((def as Record<string, unknown>).handlers)) {
    source = def as Record<string, unknown>;
    const unknown = Object.keys(source).filter((k) => k !== 'handlers' && !isHookName(k));
    if (unknown.length > 0) throw new CliError(`--require ${path}: unexpected key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} beside 'handlers' in the default export (expected handlers, startup, shutdown)`);
    handlers = source.handlers as HandlerTable;
  } else if (def !== null && typeof def === 'object') {
    source = def as Record<string, unknown>;
    handlers = Object.fromEntries(Object.entries(source).filter(([k]) => !isHookName(k))) as HandlerTable; // own enumerable properties only
  } else {
    source = mod;
    handlers = isTable(mod.handlers)
      ? mod.handlers
      : Object.fromEntries(Object.entries(mod).filter(([name, v]) => name !== 'default' && !isHookName(name) && isHandlerLike(v))) as HandlerTable;
  }
  const classes = handlers instanceof Map ? handlers.size : Object.keys(handlers).length;
  if (classes === 0) throw new CliError(`--require ${path} exports no job handlers, so the worker would fail every job; export them as ${SHAPES}`);
  const loaded: WorkersModule = { handlers };
  for (const hook of HOOKS) {
    // Beside an object default, a named export counts too (`export default table; export function shutdown`).
    const named = source === mod ? undefined : mod[hook];
    if (source[hook] !== undefined && named !== undefined && source[hook] !== named) throw new CliError(`--require ${path}: '${hook}' is exported twice (in the default export and as a named export); keep one`);
    const fn = source[hook] ?? named;
    if (fn === undefined) continue;
    if (typeof fn !== 'function') throw new CliError(`--require ${path}: '${hook}' must be a function (the ${hook} hook), got ${fn === null ? 'null' : typeof fn}`);
    loaded[hook] = fn as () => Promise<void> | void;
  }
  return loaded;
}
