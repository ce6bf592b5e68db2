/** The environment fingerprint recorded with every run: what the figures were measured on. */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, platform, release } from 'node:os';

/** Where a run was measured. */
export interface Environment {
  readonly cpuModel: string;
  /** Logical cores the process may use (`os.availableParallelism()`). */
  readonly cores: number;
  /** CPUs allowed by the cgroup quota (e.g. 1.5), or null when unlimited or unknown. */
  readonly cgroupCpuQuota: number | null;
  readonly node: string;
  readonly platform: string;
  /** 1, 5 and 15 minute load averages when the run started. */
  readonly loadAverage: readonly [number, number, number];
}

/** The fingerprint of this machine, now. */
export function environment(): Environment {
  const [l1, l5, l15] = loadavg() as [number, number, number];
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    cgroupCpuQuota: cgroupQuota(),
    node: process.version,
    platform: `${platform()} ${release()}`,
    loadAverage: [round2(l1), round2(l5), round2(l15)],
  };
}

/** The cgroup v2 (`cpu.max`) or v1 (`cpu.cfs_quota_us` / `cpu.cfs_period_us`) CPU quota. */
function cgroupQuota(): number | null {
  const v2 = read('/sys/fs/cgroup/cpu.max');
  if (v2 !== undefined) {
    const [quota, period] = v2.trim().split(/\s+/);
    return quota === 'max' || quota === undefined ? null : round2(Number(quota) / Number(period));
  }
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return quota > 0 && period > 0 ? round2(quota / period) : null;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // not on Linux, or no cgroup file: the quota is unknown
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The fingerprint in one line, for the terminal and Markdown. */
export function describeEnvironment(e: Environment): string {
  const quota = e.cgroupCpuQuota === null ? 'no cgroup CPU quota' : `cgroup CPU quota ${e.cgroupCpuQuota}`;
  return `${e.cpuModel}, ${e.cores} cores, ${quota}, Node ${e.node}, load ${e.loadAverage.join(' ')}`;
}
