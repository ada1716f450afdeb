/**
 * A wrong Redis URL or a server that is not what the URL says: the real CLI (enqueue and
 * worker) against real servers on loopback prints one line naming the cause and the fix, never
 * a password, and writes nothing. The odd servers (HTTP, one that sends garbage) run in this
 * process on free ports.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../../src/support/redis-server.js';
import { runCli, type CliResult } from '../support/cli.js';
import { dropNamespace, testRedis, TEST_REDIS_URL, uniqueNamespace } from '../support/redis.js';

const dir = mkdtempSync(join(tmpdir(), 'kiqgate-conn-'));
const handlers = join(dir, 'workers.mjs');
writeFileSync(handlers, 'export default { X: () => {} };\n');
const ns = uniqueNamespace('conn');
const base = new URL(TEST_REDIS_URL);
const hostPort = `${base.hostname}:${base.port || 6379}`;
let redis: Redis;
let http: HttpServer;
let garbage: TcpServer;
const sockets = new Set<Socket>();

function listen(server: HttpServer | TcpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

beforeAll(async () => {
  redis = testRedis();
  http = createHttpServer((_req, res) => res.end('hello'));
  garbage = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {}); // the client may reset
    socket.end(Buffer.from([0x00, 0xff, 0x67, 0x61, 0x72, 0x62, 0x0d, 0x0a]));
  });
});
afterAll(async () => {
  await dropNamespace(redis, ns);
  await redis.quit();
  http.closeAllConnections();
  for (const s of sockets) s.destroy();
  await new Promise((r) => http.close(r));
  await new Promise((r) => garbage.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function enqueue(url: string): Promise<CliResult> {
  return runCli(['enqueue', '--redis', url, '--namespace', ns, '--class', 'X', '--args', '[1]']);
}
function worker(url: string): Promise<CliResult> {
  return runCli(['worker', '--redis', url, '--namespace', ns, '--require', handlers, '--timeout', '1']);
}

/** Exit `code` and exactly one stderr line matching `line`, nothing on stdout. */
function expectOneLine(r: CliResult, code: number, line: RegExp): void {
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(line);
  expect(r.code).toBe(code);
}

describe('Redis URLs that cannot be right, and servers that are not what the URL says', () => {
  it('a DB the server does not have is fatal for enqueue and worker, and nothing lands in DB 0', async () => {
    const url = `redis://${hostPort}/99`;
    const line = new RegExp(`^kiqgate (enqueue|worker): cannot use Redis DB 99 at redis://${hostPort}/99: ERR DB index is out of range \\(the server has \\d+ databases, 0-\\d+\\)$`);
    expectOneLine(await enqueue(url), 1, line);
    expectOneLine(await worker(url), 1, line);
    expect(await redis.keys(`${ns}:*`)).toEqual([]);
  });

  it.each([
    [`redis://${hostPort}/abc`, /^kiqgate (enqueue|worker): the DB in the Redis URL redis:\/\/\S+\/abc must be a number \(redis:\/\/host:6379\/0\), got "abc"$/],
    [`http://${hostPort}`, /^kiqgate (enqueue|worker): a Redis URL starts with redis:\/\/, rediss:\/\/ \(TLS\) or unix:\/\/, got http:\/\/; use redis:\/\/host:port/],
    [`redis://:pa#ss-secret@${hostPort}`, /^kiqgate (enqueue|worker): the password \(or user name\) in the Redis URL redis:\/\/:\*\*\*@\S+ holds an unencoded '#', which ends the host part early: percent-encode it \('@' → %40, '#' → %23/],
    [`redis://pa#ss-secret@${hostPort}`, /holds an unencoded '#'.*percent-encode it/],
    [`redis://:p/ss-secret@${hostPort}`, /holds an unencoded '\/'.*percent-encode it/],
  ])('%s: one line naming the mistake, exit 2, no password', async (url, line) => {
    for (const r of [await enqueue(url), await worker(url)]) {
      expectOneLine(r, 2, line);
      expect(r.stderr).not.toContain('ss-secret');
    }
  });

  it('a password with an unencoded @ is read as ioredis reads it (the last @ ends it) and works', async () => {
    const server = await startRedisServer({ args: ['--requirepass', 'p@ss-secret'] });
    try {
      const r = await enqueue(`redis://:p@ss-secret@127.0.0.1:${server.port}`);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^[0-9a-f]{24}\n$/);
    } finally {
      await server.stop();
    }
  });

  it('unix:// URLs are taken as the socket path (as redis-rb writes them)', async () => {
    const sock = join(dir, 'missing.sock');
    expectOneLine(await enqueue(`unix://${sock}`), 1, new RegExp(`cannot reach Redis at unix://${sock} \\(connect ENOENT ${sock}\\)`));
  });

  it('an HTTP server: says it does not speak the Redis protocol, with what it sent', async () => {
    const port = await listen(http);
    const line = new RegExp(`^kiqgate (enqueue|worker): the server at 127\\.0\\.0\\.1:${port} does not speak the Redis protocol \\(is it Redis\\? got: "HTTP/1\\.1 400 Bad Request\\\\r\\\\n.*"…?\\); check the host and port of the Redis URL$`);
    expectOneLine(await enqueue(`redis://127.0.0.1:${port}`), 1, line);
    expectOneLine(await worker(`redis://127.0.0.1:${port}`), 1, line);
  });

  it('a TCP server that sends garbage: the bytes are shown escaped', async () => {
    const port = await listen(garbage);
    expectOneLine(await enqueue(`redis://127.0.0.1:${port}`), 1,
      new RegExp(`^kiqgate enqueue: the server at 127\\.0\\.0\\.1:${port} does not speak the Redis protocol \\(is it Redis\\? got: "\\\\x00\\\\xffgarb\\\\r\\\\n"\\); check the host and port`));
  });
});
