/**
 * Values a handler can throw that are hard to describe: each one broke kiqgate's failure path
 * once (or could), and each has what its recorded error_message must show.
 */
import fc from 'fast-check';

const trap = (): never => { throw new Error('trap boom'); };
const allTraps: ProxyHandler<object> = {
  get: trap, set: trap, has: trap, getPrototypeOf: trap, setPrototypeOf: trap, ownKeys: trap,
  getOwnPropertyDescriptor: trap, defineProperty: trap, deleteProperty: trap, isExtensible: trap, preventExtensions: trap,
};

export interface Hostile {
  label: string;
  /** Makes the value (fresh each time: some are mutable). */
  make: () => unknown;
  /** What the recorded error_message must match. */
  message: RegExp;
}

export const HOSTILE: readonly Hostile[] = [
  { label: 'Error with a number message', make: () => Object.assign(new Error('x'), { message: 42 }), message: /^42$/ },
  { label: 'Error with an object message', make: () => Object.assign(new Error('x'), { message: { deep: [1, 2] } }), message: /deep/ },
  { label: 'Error with a non-string name', make: () => Object.assign(new Error('named'), { name: 7 }), message: /^named$/ },
  {
    label: 'Error whose message getter throws',
    make: () => Object.defineProperty(new Error('x'), 'message', { get: () => { throw new Error('getter boom'); } }),
    message: /unreadable message/,
  },
  {
    label: 'Error whose name getter throws',
    make: () => Object.defineProperty(new Error('still here'), 'name', { get: () => { throw new Error('getter boom'); } }),
    message: /^still here$/,
  },
  { label: 'Proxy whose traps all throw', make: () => new Proxy({}, allTraps), message: /^non-error thrown: / },
  { label: 'Proxy of an Error whose traps all throw', make: () => new Proxy(new Error('inner'), allTraps), message: /inner/ },
  { label: 'revoked Proxy', make: () => { const r = Proxy.revocable({}, {}); r.revoke(); return r.proxy; }, message: /Revoked Proxy/ },
  { label: 'Symbol', make: () => Symbol('sym-desc'), message: /Symbol\(sym-desc\)/ },
  { label: 'circular object', make: () => { const o: Record<string, unknown> = { a: 1 }; o.self = o; return o; }, message: /Circular/ },
  { label: 'BigInt', make: () => 12345678901234567890n, message: /12345678901234567890n/ },
  { label: 'null-prototype object', make: () => Object.assign(Object.create(null) as object, { k: 'v' }), message: /null prototype.*k: 'v'/ },
  { label: 'object whose toString throws', make: () => ({ toString: trap, valueOf: trap, toJSON: trap }), message: /^non-error thrown: / },
  { label: 'null', make: () => null, message: /^non-error thrown: null$/ },
  { label: 'undefined', make: () => undefined, message: /^non-error thrown: undefined$/ },
  { label: 'a string', make: () => 'plain string', message: /^plain string$/ },
  { label: 'a number', make: () => 404, message: /^non-error thrown: 404$/ },
  { label: 'a function', make: () => function named() {}, message: /named/ },
];

/**
 * Recipes for anything fast-check can make, plus the hostile values above. Recipes, not the
 * values: fast-check inspects what it generates (to clone and print it), and a Proxy whose
 * traps throw would break fast-check itself. The property calls `make()`.
 */
export const anyThrown: fc.Arbitrary<Hostile> = fc.oneof(
  fc.anything({ withBigInt: true, withNullPrototype: true, withMap: true, withSet: true, withObjectString: true, withBoxedValues: true, withTypedArray: true, withSparseArray: true })
    // A thrown string is its own message; anything else says something.
    .map((v) => ({ label: 'anything', make: () => v, message: typeof v === 'string' ? new RegExp(`^${v.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}$`, 's') : /./ })),
  fc.constantFrom(...HOSTILE),
  fc.string().map((s) => ({ label: 'Symbol', make: () => Symbol(s), message: /Symbol\(/ })),
  fc.anything().map((v) => ({ label: 'Error with any message', make: () => Object.assign(new Error('e'), { message: v }), message: /.?/ })),
  fc.anything().map((v) => ({ label: 'Error with any name', make: () => Object.assign(new TypeError('t'), { name: v }), message: /^t$/ })),
);
