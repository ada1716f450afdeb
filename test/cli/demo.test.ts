/**
 * `kiqgate demo` (the README's main command) end to end, as a user runs it.
 */
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

describe('kiqgate demo', () => {
  it('starts a private redis-server when asked, runs every demo job, and stops it again', async () => {
    const r = await runCli(['demo', '--private-redis']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const port = /started a private redis-server at redis:\/\/127\.0\.0\.1:(\d+)/.exec(r.stdout)?.[1];
    expect(port).toBeDefined();
    expect(r.stdout).toContain('args=["4611686018427387904n","héllo wörld 😀",{"nested":[1.5,null,true]}]');
    expect(r.stdout).toContain('ran ExampleWorker (Verk job, args stored as a JSON string) args=[1,2]');
    expect(r.stdout).toContain('ran FlakyJob     on its retry (retry_count 0)');
    expect(r.stdout).toMatch(/done: 205 jobs ran; stat:processed=206, stat:failed=1/);
    // Plain lines for a person: no JSON log line mixed in (FlakyJob's planned failure included),
    // and the enqueue is announced before the first job runs, never after.
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines.filter((l) => l.trimStart().startsWith('{'))).toEqual([]);
    const announced = lines.findIndex((l) => l.startsWith('enqueuing 205 jobs'));
    const firstRan = lines.findIndex((l) => l.includes('ran '));
    expect(announced).toBeGreaterThanOrEqual(0);
    expect(announced).toBeLessThan(firstRan);
    expect(r.stdout).not.toContain('processing...');
    // The private server is gone after exit.
    const { portAnswers } = await import('../../src/support/redis-server.js');
    expect(await portAnswers('127.0.0.1', Number(port))).toBe(false);
  });

  it('says how to get Redis when there is none and redis-server is not installed', async () => {
    // A PATH holding only node (node often sits in /usr/bin next to redis-server).
    const bin = mkdtempSync(join(tmpdir(), 'kiqgate-nopath-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = await runCli(['demo', '--private-redis'], { PATH: bin });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('redis-server is not installed');
    expect(r.stderr).toContain('apt-get install -y redis-server');
  });
});
