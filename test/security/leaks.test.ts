/**
 * Passwords never appear in logs, errors, CLI output or events. Each surface runs with a URL
 * holding a distinctive password against (a) a server requiring it, (b) an unreachable port and
 * (c) a server where that password is wrong; the password, raw or percent-encoded, must be in
 * no byte of what comes out, and `user:***@` must be where a URL is shown.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client } from '../../src/client/index.js';
import { Worker } from '../../src/engine/index.js';
import { EVENT_NAMES } from '../../src/engine/events.js';
import { redactText, redactUrl, scrubCommandError } from '../../src/support/redact.js';
import { freePort, startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { RedisUrlError } from '../../src/support/redis-url.js';
import { redisOptionsFromUrl } from '../../src/support/tls.js';
import { runCli } from '../support/cli.js';
import { bufferLogger, sleep, startCli, until } from './helpers.js';

/** Distinctive, and with characters that must be percent-encoded in a URL. */
const PASSWORD = 'Leak@Canary:9f/Q%x';
const WRONG = 'WrongPw@Canary-42/z';
const enc = encodeURIComponent;

let server: RedisServerHandle;
let admin: Redis;
let goodUrl: string;
let wrongUrl: string;
let deadUrl: string;
let deadPort: number;
const dir = mkdtempSync(join(tmpdir(), 'kiqgate-leaks-'));

beforeAll(async () => {
  server = await startRedisServer({ args: ['--user', 'leaky', 'on', `>${PASSWORD}`, '~*', '&*', '+@all', '--user', 'default', 'on', 'nopass', '~*', '&*', '+@all'] });
  admin = new Redis(server.url);
  goodUrl = `redis://leaky:${enc(PASSWORD)}@127.0.0.1:${server.port}`;
  wrongUrl = `redis://leaky:${enc(WRONG)}@127.0.0.1:${server.port}`;
  deadPort = await freePort();
  deadUrl = `redis://leaky:${enc(PASSWORD)}@127.0.0.1:${deadPort}`;
});
afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** No form of either secret in `text`. */
function expectNoSecret(text: string): void {
  for (const secret of [PASSWORD, WRONG]) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(enc(secret));
    expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
  }
}

/** Everything an error carries: message, stack, own properties (ioredis's `command`), JSON. */
function everything(err: unknown): string {
  let json = '';
  try { json = JSON.stringify(err); } catch { /* circular */ }
  return `${inspect(err, { depth: 8, showHidden: true })}\n${json}\n${(err as Error)?.stack ?? ''}`;
}

describe('redaction helpers', () => {
  it('redactUrl/redactText mask user:password@, :password@ and ?password=', () => {
    expect(redactUrl(goodUrl)).toBe(`redis://leaky:***@127.0.0.1:${server.port}`);
    expect(redactUrl(`rediss://:${enc(PASSWORD)}@h:1/2`)).toBe('rediss://:***@h:1/2');
    expect(redactUrl(`redis://h:1?password=${enc(PASSWORD)}&db=1`)).toBe('redis://h:1?password=***&db=1');
    const text = redactText(`failed for ${goodUrl} and redis://h?password=${enc(PASSWORD)} and rediss://${enc(PASSWORD)}@h`);
    expectNoSecret(text);
    expect(text).toContain('redis://leaky:***@127.0.0.1');
  });

  it.each([
    ['unencoded / and #', 'redis://leaky:Raw/Pass#w0rd@127.0.0.1:1', 'redis://leaky:***@127.0.0.1:1', 'Raw/Pass#w0rd'],
    ['unencoded @ and :', 'rediss://leaky:Raw@Pa:ss@127.0.0.1:1/2', 'rediss://leaky:***@127.0.0.1:1/2', 'Raw@Pa:ss'],
    ['no user, unencoded /', 'redis://Raw/Pass@127.0.0.1:1', 'redis://***@127.0.0.1:1', 'Raw/Pass'],
  ])('a password with %s is masked whole', (_l, url, shown, secret) => {
    expect(redactUrl(url)).toBe(shown);
    expect(redactText(`cannot reach ${url} (x)`)).toBe(`cannot reach ${shown} (x)`);
    expect(redactText(url)).not.toContain(secret.slice(4));
  });

  it('an unparsable URL: the API error and the CLI line hold no password', async () => {
    const url = `redis://leaky:${PASSWORD}@127.0.0.1:1`; // not percent-encoded: Invalid URL
    const caught = (() => { try { return new Client({ redis: url }); } catch (err) { return err; } })();
    expect(caught).toBeInstanceOf(RedisUrlError);
    expectNoSecret(everything(caught));
    const r = await runCli(['enqueue', '--redis', url, '--class', 'Leak', '--args', '[]']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^kiqgate enqueue: the password \(or user name\) in the Redis URL redis:\/\/leaky:\*\*\*@127\.0\.0\.1:1 holds an unencoded '\/', which ends the host part early: percent-encode it \(.*\)\n$/);
    expectNoSecret(r.stderr);
  });

  it('scrubCommandError replaces AUTH arguments and leaves other commands alone', () => {
    const auth = Object.assign(new Error('WRONGPASS'), { command: { name: 'auth', args: ['leaky', PASSWORD] } });
    expectNoSecret(everything(scrubCommandError(auth)));
    const get = Object.assign(new Error('x'), { command: { name: 'get', args: ['k'] } });
    expect(scrubCommandError(get).command).toEqual({ name: 'get', args: ['k'] });
  });
});

describe('kiqgate CLI', () => {
  const cases = [
    ['(a) password accepted', () => goodUrl],
    ['(b) unreachable port', () => deadUrl],
    ['(c) wrong password', () => wrongUrl],
  ] as const;

  it.each(cases)('enqueue %s', async (label, url) => {
    const r = await runCli(['enqueue', '--redis', url(), '--class', 'Leak', '--args', '[1]', '--namespace', 'leak-cli']);
    expectNoSecret(r.stdout + r.stderr);
    if (label.startsWith('(a)')) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^[0-9a-f]{24}\n$/);
    } else {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^kiqgate enqueue: cannot reach Redis at redis:\/\/leaky:\*\*\*@127\.0\.0\.1:\d+ \(.+\); .+\n$/);
      if (label.startsWith('(c)')) expect(r.stderr).toContain('WRONGPASS');
    }
  });

  it.each(cases)('demo %s', async (label, url) => {
    const r = await runCli(['demo', '--redis', url()], {}, 120_000);
    expectNoSecret(r.stdout + r.stderr);
    if (label.startsWith('(a)')) {
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`kiqgate demo: Redis redis://leaky:***@127.0.0.1:${server.port}`);
    } else {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^kiqgate demo: cannot reach Redis at redis:\/\/leaky:\*\*\*@127\.0\.0\.1:\d+ /);
    }
  });

  it.each(cases)('compat %s', async (label, url) => {
    const r = await runCli(['compat', '--redis', url(), '--fixtures', 'fixtures/exq-0.23.0', '--json'], {}, 120_000);
    expectNoSecret(r.stdout + r.stderr);
    if (label.startsWith('(a)')) {
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).redis).toBe(`redis://leaky:***@127.0.0.1:${server.port}`);
    } else {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('redis://leaky:***@127.0.0.1:');
    }
  });
});

describe('kiqgate worker', () => {
  const handlers = join(dir, 'workers.mjs');
  writeFileSync(handlers, 'export default { Leak: () => {}, Boom: () => { throw new Error("boom"); } };\n');

  it('(a) runs jobs and logs the redacted URL, never the password', async () => {
    const ns = 'leak-wcli';
    const w = startCli(['worker', '--require', handlers, '--redis', goodUrl, '--namespace', ns, '--log-level', 'debug', '--timeout', '2']);
    const c = new Client({ redis: goodUrl, namespace: ns });
    await c.enqueue({ class: 'Leak', args: [] });
    await c.enqueue({ class: 'Boom', args: [] });
    await c.close();
    await until(() => /"msg":"fail: moved to retry"/.test(w.output()) && /"msg":"done"/.test(w.output()), 'the worker to run both jobs', 30_000);
    w.stop();
    const { code, out } = await w.done;
    expect(code).toBe(0);
    expect(out).toContain(`redis://leaky:***@127.0.0.1:${server.port}`);
    expectNoSecret(out);
  });

  it.each([['(b) unreachable port', () => deadUrl], ['(c) wrong password', () => wrongUrl]] as const)('%s: one redacted line, exit 1', async (_l, url) => {
    const { code, out } = await startCli(['worker', '--require', handlers, '--redis', url()]).done;
    expect(code).toBe(1);
    expect(out).toMatch(/^kiqgate worker: cannot reach Redis at redis:\/\/leaky:\*\*\*@127\.0\.0\.1:\d+ \(.+\); .+\n$/);
    expectNoSecret(out);
  });
});

describe('Worker API: pino logs and events', () => {
  /** Records every event payload, fully inspected. */
  function recordEvents(worker: Worker): () => string {
    const seen: string[] = [];
    for (const name of EVENT_NAMES) worker.on(name, (e: unknown) => { seen.push(`${name} ${everything(e)}`); });
    return () => seen.join('\n');
  }

  it('(a) password accepted: jobs run and fail, nothing secret in logs or events', async () => {
    const { logger, text } = bufferLogger('trace');
    const worker = new Worker({ redis: goodUrl, namespace: 'leak-api', logger, pollIntervalMs: 100, generateNodeId: true, heartbeatMs: 200,
      handlers: { Leak: () => {}, Boom: () => { throw new Error('boom'); } } });
    const events = recordEvents(worker);
    await worker.start();
    const c = new Client({ redis: goodUrl, namespace: 'leak-api' });
    await c.enqueue({ class: 'Leak', args: [] });
    await c.enqueue({ class: 'Boom', args: [] });
    await c.close();
    await until(() => events().includes('job:failed') && events().includes('job:finished'), 'both jobs');
    await worker.stop();
    expect(text()).toContain(`"redis":"redis://leaky:***@127.0.0.1:${server.port}"`);
    expectNoSecret(text());
    expectNoSecret(events());
  });

  it('(b) unreachable port: connection errors logged without the password; recovers when Redis appears', async () => {
    const { logger, text } = bufferLogger('trace');
    const worker = new Worker({ redis: deadUrl, logger, pollIntervalMs: 100 });
    const events = recordEvents(worker);
    const started = worker.start();
    await until(() => /ECONNREFUSED/.test(text()), 'a connection error in the log');
    await sleep(300);
    // Let it connect so that start() and stop() can finish.
    const late = await startRedisServer({ port: deadPort, args: ['--user', 'leaky', 'on', `>${PASSWORD}`, '~*', '&*', '+@all'] });
    try {
      await started;
      await worker.stop();
    } finally {
      await late.stop();
    }
    expect(text()).toContain('redis://leaky:***@127.0.0.1:');
    expectNoSecret(text());
    expectNoSecret(events());
  });

  it('(c) wrong password: start() fails with WRONGPASS, logged and thrown (errors serialized whole) without the password', async () => {
    await admin.call('ACL', 'SETUSER', 'leaky2', 'reset', 'on', '>Right2-pw', '~*', '&*', '+@all');
    const url = wrongUrl.replace('leaky:', 'leaky2:');
    const { logger, text } = bufferLogger('trace');
    const worker = new Worker({ redis: url, logger, pollIntervalMs: 100, queues: { default: 2 } });
    const events = recordEvents(worker);
    const err = await worker.start().then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).toMatch(/refused the login: .*WRONGPASS/);
    await worker.stop();
    expectNoSecret(everything(err));
    expectNoSecret(text());
    expectNoSecret(events());
  });
});

describe('Client API errors', () => {
  it('(c) wrong password: the rejection (message, stack, own properties, JSON) holds no password', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const connectionErrors: unknown[] = [];
    const client = new Client({ redis: wrongUrl, onConnectionError: (err) => { connectionErrors.push(err); } });
    let caught: unknown;
    try {
      await client.enqueue({ class: 'Leak', args: [] });
    } catch (err) {
      caught = err;
    } finally {
      await client.close();
    }
    const printed = errors.mock.calls.map((args) => args.map((a) => everything(a)).join(' ')).join('\n');
    errors.mockRestore();
    expect((caught as Error).message).toMatch(/WRONGPASS/);
    expect((caught as { command?: unknown }).command).toEqual({ name: 'auth', args: ['***'] });
    expectNoSecret(everything(caught));
    expectNoSecret(printed);
    expect(connectionErrors.length).toBeGreaterThan(0);
    expectNoSecret(connectionErrors.map(everything).join('\n'));
  });

  it('(b) unreachable port: the rejection holds no password', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const client = new Client({ redis: { ...redisOptionsFromUrl(deadUrl), maxRetriesPerRequest: 0, retryStrategy: () => null } });
    const caught = await client.enqueue({ class: 'Leak', args: [] }).catch((err: unknown) => err);
    await client.close();
    const printed = errors.mock.calls.map((args) => args.map((a) => everything(a)).join(' ')).join('\n');
    errors.mockRestore();
    expect(caught).toBeInstanceOf(Error);
    expectNoSecret(everything(caught));
    expectNoSecret(printed);
  });

  it('(a) a failure after connecting (NOPERM) holds no password', async () => {
    await admin.call('ACL', 'SETUSER', 'weak', 'reset', 'on', `>${PASSWORD}`, '~*', '-@all', '+info', '+ping');
    const client = new Client({ redis: `redis://weak:${enc(PASSWORD)}@127.0.0.1:${server.port}` });
    const caught = await client.enqueue({ class: 'Leak', args: [] }).catch((err: unknown) => err);
    await client.close();
    expect(String((caught as Error).message)).toMatch(/NOPERM/);
    expectNoSecret(everything(caught));
  });
});
