/**
 * `rediss://` end to end against a real redis-server with TLS only (plain TCP off): the Client,
 * the Worker and `kiqgate enqueue`, with a CA, with client certificates (`tls-auth-clients
 * yes`), from API options, from KIQGATE_TLS_* and from --tls-* flags. A CA that did not sign the
 * server's certificate gives one clear line, with no stack and no password.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { Worker } from '../../src/engine/index.js';
import { freePort, startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { redisOptionsFromUrl, TLS_ENV } from '../../src/support/tls.js';
import { runCli } from '../support/cli.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { bufferLogger, type Certs, makeCerts, silent, startCli, tlsServerArgs, until } from './helpers.js';

const PASSWORD = 'TlsPw-q7Zr2kXv';
let certs: Certs;
/** TLS with the CA only (clients need not present a certificate). */
let caOnly: RedisServerHandle;
/** Mutual TLS plus a password: clients must present a certificate signed by the CA. */
let mutual: RedisServerHandle;
let caUrl: string;
let mutualUrl: string;

beforeAll(async () => {
  certs = makeCerts();
  const p1 = await freePort();
  caOnly = await startRedisServer({ port: p1, args: tlsServerArgs(p1, certs, false) });
  const p2 = await freePort();
  mutual = await startRedisServer({ port: p2, args: [...tlsServerArgs(p2, certs, true), '--requirepass', PASSWORD] });
  caUrl = `rediss://127.0.0.1:${p1}`;
  mutualUrl = `rediss://default:${PASSWORD}@127.0.0.1:${p2}`;
});

afterAll(async () => {
  await caOnly?.stop();
  await mutual?.stop();
  certs?.remove();
});

afterEach(() => {
  for (const v of Object.values(TLS_ENV)) delete process.env[v];
});

/** A direct connection to a TLS server, for checking what landed in Redis. */
function inspect(url: string): Redis {
  return new Redis(url, { tls: { ca: readFileSync(certs.ca), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) }, maxRetriesPerRequest: 2 });
}

async function runOneJob(worker: Worker, enqueue: () => Promise<string>): Promise<{ jid: string; ran: unknown[] }> {
  const ran: unknown[] = [];
  worker.registry.register('TlsJob', (args) => { ran.push(args); });
  await worker.start();
  try {
    const jid = await enqueue();
    await until(() => ran.length > 0, 'the job to run over TLS');
    return { jid, ran };
  } finally {
    await worker.stop();
  }
}

describe('TLS (rediss://)', () => {
  it('API: Client and Worker with ioredis tls options { ca } run a job', async () => {
    const ns = 'tls-api';
    const client = new Client({ redis: redisOptionsFromUrl(caUrl, { ca: certs.ca }), namespace: ns });
    const worker = new Worker({ redis: { host: '127.0.0.1', port: caOnly.port, tls: { ca: readFileSync(certs.ca) } }, namespace: ns, logger: silent, pollIntervalMs: 200 });
    try {
      const { ran } = await runOneJob(worker, () => client.enqueue({ class: 'TlsJob', args: [1, 'über'] }));
      expect(ran).toEqual([[1, 'über']]);
    } finally {
      await client.close();
    }
  });

  it('API: mutual TLS with a client certificate and a password (redisOptionsFromUrl)', async () => {
    const ns = 'tls-mutual-api';
    const files = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
    const client = new Client({ redis: redisOptionsFromUrl(mutualUrl, files), namespace: ns });
    const worker = new Worker({ redis: redisOptionsFromUrl(mutualUrl, files), namespace: ns, logger: silent });
    try {
      const { ran } = await runOneJob(worker, () => client.enqueue({ class: 'TlsJob', args: ['mutual'] }));
      expect(ran).toEqual([['mutual']]);
    } finally {
      await client.close();
    }
  });

  it('environment: KIQGATE_TLS_CA/_CERT/_KEY apply to a plain rediss:// URL for Client and Worker', async () => {
    process.env[TLS_ENV.ca] = certs.ca;
    process.env[TLS_ENV.cert] = certs.clientCert;
    process.env[TLS_ENV.key] = certs.clientKey;
    const ns = 'tls-env';
    const { logger, text } = bufferLogger('info');
    const client = new Client({ redis: mutualUrl, namespace: ns });
    const worker = new Worker({ redis: mutualUrl, namespace: ns, logger });
    try {
      const { ran } = await runOneJob(worker, () => client.enqueue({ class: 'TlsJob', args: ['env'] }));
      expect(ran).toEqual([['env']]);
    } finally {
      await client.close();
    }
    expect(text()).toContain(`rediss://default:***@127.0.0.1:${mutual.port}`);
    expect(text()).not.toContain(PASSWORD);
  });

  it('kiqgate enqueue --tls-ca/--tls-cert/--tls-key pushes over mutual TLS; a Worker runs the job', async () => {
    const ns = 'tls-cli';
    const r = await runCli(['enqueue', '--redis', mutualUrl, '--namespace', ns, '--class', 'TlsJob', '--args', '[42]',
      '--tls-ca', certs.ca, '--tls-cert', certs.clientCert, '--tls-key', certs.clientKey]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const jid = r.stdout.trim();
    const files = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
    const worker = new Worker({ redis: redisOptionsFromUrl(mutualUrl, files), namespace: ns, logger: silent });
    const seen: string[] = [];
    worker.registry.register('TlsJob', (_args, ctx) => { seen.push(ctx.jid!); });
    await worker.start();
    try {
      await until(() => seen.length > 0, 'the CLI-enqueued job to run');
    } finally {
      await worker.stop();
    }
    expect(seen).toEqual([jid]);
  });

  it.each([
    ['--tls-* flags', true],
    ['KIQGATE_TLS_* variables', false],
  ] as const)('kiqgate worker over mutual TLS with %s runs an enqueued job and stops on SIGTERM', async (_l, flags) => {
    const ns = `tls-worker-${flags ? 'flags' : 'env'}`;
    const handlers = join(certs.dir, 'workers.mjs');
    writeFileSync(handlers, 'export default { TlsJob: (args, ctx) => { ctx.logger.info({ ran: args }, "tls job ran"); } };\n');
    const tlsArgs = flags ? ['--tls-ca', certs.ca, '--tls-cert', certs.clientCert, '--tls-key', certs.clientKey] : [];
    const env = flags ? {} : { [TLS_ENV.ca]: certs.ca, [TLS_ENV.cert]: certs.clientCert, [TLS_ENV.key]: certs.clientKey };
    const w = startCli(['worker', '--require', handlers, '--redis', mutualUrl, '--namespace', ns, ...tlsArgs], env);
    const client = new Client({ redis: redisOptionsFromUrl(mutualUrl, { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }), namespace: ns });
    try {
      await client.enqueue({ class: 'TlsJob', args: [7] });
    } finally {
      await client.close();
    }
    await until(() => w.output().includes('tls job ran'), 'the worker to run the job over TLS', 30_000);
    w.stop();
    const { code, out } = await w.done;
    expect(code).toBe(0);
    expect(out).toContain(`rediss://default:***@127.0.0.1:${mutual.port}`);
    expect(out).not.toContain(PASSWORD);
  });

  it('kiqgate worker with the wrong CA: one clear line, exit 1', async () => {
    const handlers = join(certs.dir, 'noop-workers.mjs');
    writeFileSync(handlers, 'export default { TlsJob: () => {} };\n');
    const { code, out } = await startCli(['worker', '--require', handlers, '--redis', mutualUrl, '--tls-ca', certs.otherCa, '--tls-cert', certs.clientCert, '--tls-key', certs.clientKey]).done;
    expect(code).toBe(1);
    expect(out).toMatch(/^kiqgate worker: cannot reach Redis at rediss:\/\/default:\*\*\*@127\.0\.0\.1:\d+ \(.*certificate.*\); check the TLS settings.*\n$/);
    expect(out).not.toContain(PASSWORD);
  });

  it('kiqgate enqueue reads KIQGATE_TLS_* when no flag is given', async () => {
    const r = await runCli(['enqueue', '--redis', caUrl, '--namespace', 'tls-cli-env', '--class', 'TlsJob', '--args', '[1]'], { [TLS_ENV.ca]: certs.ca });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const redis = inspect(caUrl);
    try {
      expect(await redis.llen('tls-cli-env:queue:default')).toBe(1);
    } finally {
      redis.disconnect();
    }
  });

  it('a CA that did not sign the server certificate: one clear line, no stack, no password, nothing written', async () => {
    const r = await runCli(['enqueue', '--redis', mutualUrl, '--namespace', 'tls-bad', '--class', 'TlsJob', '--args', '[1]',
      '--tls-ca', certs.otherCa, '--tls-cert', certs.clientCert, '--tls-key', certs.clientKey]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^kiqgate enqueue: cannot reach Redis at rediss:\/\/default:\*\*\*@127\.0\.0\.1:\d+ \(.*certificate.*\); check the TLS settings/);
    expect(r.stderr).not.toContain(PASSWORD);
    const redis = inspect(mutualUrl.replace(PASSWORD, encodeURIComponent(PASSWORD)));
    try {
      expect(await redis.exists('tls-bad:queue:default', 'tls-bad:queues')).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it('no client certificate where the server requires one: a clear TLS error line', async () => {
    const r = await runCli(['enqueue', '--redis', mutualUrl, '--class', 'TlsJob', '--args', '[1]', '--tls-ca', certs.ca]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot reach Redis at rediss:\/\/default:\*\*\*@/);
    expect(r.stderr).not.toContain(PASSWORD);
  });

  it('a TLS file that cannot be read is named (path and variable), nothing else', async () => {
    const r = await runCli(['enqueue', '--redis', caUrl, '--class', 'TlsJob', '--args', '[1]', '--tls-ca', '/nonexistent/ca.pem']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('kiqgate enqueue: cannot read the TLS ca file /nonexistent/ca.pem (command line and environment, KIQGATE_TLS_CA): ENOENT');
    const half = await runCli(['enqueue', '--redis', caUrl, '--class', 'TlsJob', '--args', '[1]', '--tls-cert', certs.clientCert]);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('a client certificate and its key go together');
  });

  it('a Worker with the wrong CA fails to start with the TLS error, redacted, and runs nothing', async () => {
    const { logger, text } = bufferLogger('debug');
    const redis = redisOptionsFromUrl(mutualUrl, { ca: certs.otherCa, cert: certs.clientCert, key: certs.clientKey });
    const worker = new Worker({ redis, logger, pollIntervalMs: 100, shutdownTimeoutMs: 100, connectTimeoutMs: 3000 });
    const ran: unknown[] = [];
    worker.registry.register('TlsJob', (args) => { ran.push(args); });
    const err = await worker.start().then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/did not answer within 3000 ms \(.*certificate/);
    await worker.stop();
    expect(ran).toEqual([]);
    expect(text()).toMatch(/certificate/);
    expect(text()).not.toContain(PASSWORD);
    expect(err?.message).not.toContain(PASSWORD);
  });

  it('rediss:// to a plain Redis: says the server does not speak TLS and to use redis://, for enqueue and worker', async () => {
    const plain = new URL(TEST_REDIS_URL);
    const url = `rediss://${plain.hostname}:${plain.port || 6379}`;
    const handlers = join(certs.dir, 'plain-workers.mjs');
    writeFileSync(handlers, 'export default { TlsJob: () => {} };\n');
    const line = new RegExp(`^kiqgate (enqueue|worker): TLS handshake failed: the server at ${plain.hostname}:${plain.port || 6379} does not speak TLS, it answers as plain Redis \\(use redis:// and no --tls-ca/--tls-cert/--tls-key or KIQGATE_TLS_\\* for a plain server\\)$`);
    for (const r of [
      await runCli(['enqueue', '--redis', url, '--namespace', 'tls-plain', '--class', 'TlsJob', '--args', '[1]']),
      await runCli(['worker', '--redis', url, '--namespace', 'tls-plain', '--require', handlers]),
    ]) {
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr.trimEnd()).toMatch(line);
      expect(r.code).toBe(1);
    }
  });

  it('redis:// to a TLS-only Redis: says it speaks TLS and to use rediss://', async () => {
    const r = await runCli(['enqueue', '--redis', `redis://127.0.0.1:${caOnly.port}`, '--class', 'TlsJob', '--args', '[1]']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`kiqgate enqueue: the server at 127.0.0.1:${caOnly.port} speaks TLS, not plain Redis (use rediss://, with --tls-ca or KIQGATE_TLS_CA when its certificate is not from a public CA)\n`);
  });

  it('a CA file that is not PEM is named when it is loaded, before any connection', async () => {
    const der = join(certs.dir, 'ca.der');
    writeFileSync(der, Buffer.from([0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00]));
    const r = await runCli(['enqueue', '--redis', caUrl, '--class', 'TlsJob', '--args', '[1]', '--tls-ca', der]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`kiqgate enqueue: the TLS ca file ${der} (command line and environment, KIQGATE_TLS_CA) is not a PEM certificate: expected a "-----BEGIN CERTIFICATE-----" block (a DER file converts with openssl x509 -inform der -in FILE -out FILE.pem)\n`);
    const env = await runCli(['enqueue', '--redis', caUrl, '--class', 'TlsJob', '--args', '[1]'], { [TLS_ENV.key]: certs.clientCert, [TLS_ENV.cert]: certs.clientCert });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain(`the TLS key file ${certs.clientCert} (command line and environment, KIQGATE_TLS_KEY) is not a PEM private key`);
  });
});
