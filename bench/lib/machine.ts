/** What the results ran on, for the results file. */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem, release } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  kernel: string;
  node: string;
  redis: string;
  ruby: string | null;
}

export function machineInfo(redis: string): MachineInfo {
  const ruby = spawnSync('ruby', ['-v'], { encoding: 'utf8' });
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    redis,
    ruby: ruby.status === 0 ? ruby.stdout.trim() : null,
  };
}
