/** Runs the real `kiqgate` command (bin/kiqgate.js) as a child process and captures its output. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from './wait.js';

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'kiqgate.js');

export interface CliResult { code: number | null; stdout: string; stderr: string }

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kiqgate ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stderr}`)); }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

export interface CliExit { code: number | null; signal: NodeJS.Signals | null; out: string; err: string }

/** Long-running commands started by {@link startCli} that have not exited yet. */
const running = new Set<ChildProcess>();

/** SIGKILLs what {@link startCli} started and is still running (for an afterEach). */
export function killStrays(): void {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
}

/**
 * Starts a long-running `kiqgate` command (`node bin/kiqgate.js ...`, so signals reach the node
 * process itself, not a wrapper) and follows its output. `bin`: another install's bin/kiqgate.js.
 */
export function startCli(args: string[], env: Record<string, string> = {}, bin = BIN) {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  // 'close', not 'exit': the last output may still be in the pipes when 'exit' fires.
  const exited = new Promise<CliExit>((done) => child.on('close', (code, signal) => done({ code, signal, out, err })));
  let exit: CliExit | undefined;
  void exited.then((e) => { exit = e; });
  return {
    kill: (sig: NodeJS.Signals) => child.kill(sig),
    output: () => out,
    /** The exit, or a failure when the process is still there after `ms` (it is then killed). */
    async exit(ms = 30_000): Promise<CliExit> {
      try {
        await until(() => exit, `kiqgate ${args[0]} to exit (stdout so far: ${out.slice(-400)})`, ms);
      } finally {
        if (!exit) child.kill('SIGKILL');
      }
      return exit!;
    },
  };
}

/** The JSON (pino) lines of a command's stdout. */
export const logLines = (out: string) => out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string } & Record<string, unknown>);
