/** What the results ran on, for the results file. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  kernel: string;
  node: string;
  redis: string;
  ruby: string | null;
  /** NODE_OPTIONS the Node systems' processes inherited (e.g. a V8 heap flag), or null. */
  nodeOptions: string | null;
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
    nodeOptions: process.env.NODE_OPTIONS || null,
  };
}

/** The machine's CPU time so far from /proc/stat (all cores, in clock ticks): steal and the total. */
export interface CpuTicks {
  steal: number;
  total: number;
}

export function cpuTicks(): CpuTicks {
  try {
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    return { steal: fields[7] ?? 0, total: fields.reduce((a, b) => a + b, 0) };
  } catch {
    return { steal: 0, total: 0 }; // not Linux: no steal figure
  }
}

/**
 * Share of the machine's CPU time the hypervisor gave to others between two readings, %.
 * On a shared VM this is what moves latency tails most: a vCPU taken away for a few ms holds
 * whichever of Redis, producer or worker was on it.
 */
export function stealPct(from: CpuTicks, to: CpuTicks): number {
  const total = to.total - from.total;
  return total > 0 ? ((to.steal - from.steal) / total) * 100 : 0;
}
