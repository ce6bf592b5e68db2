/**
 * Same-run measurement of whole runs in rotated order: round r starts with runner r mod k, so
 * no runner always goes first (cold caches) or last (a machine that warmed up, or a neighbour
 * that started hogging a core). Each round's samples are taken seconds apart, which is what
 * makes same-run ratios stable on a busy machine.
 */

/** One contender: `run` performs the whole workload once. */
export interface Contender {
  readonly name: string;
  /** Untimed, before each run: say, allocating inputs that the run transfers away. */
  prepare?(): unknown;
  run(): unknown;
  /** When true, `run` resolves to the milliseconds it timed itself (leaving out, say, idling between calls) instead of being timed whole. Default false. */
  readonly timesItself?: boolean;
}

/** How many rounds, and a hook called before each timed run. */
export interface RotateOptions {
  /** Timed rounds; each runs every contender once. */
  readonly rounds: number;
  /** Untimed rounds first (JIT, thread start-up, file caches). Default 1. */
  readonly warmup?: number;
  /** Told which contender of which round runs next. */
  readonly progress?: (contender: string, round: number) => void;
}

/** Wall times in ms, `samples[c][r]` for contender c in timed round r. */
export async function measureRotated(contenders: readonly Contender[], options: RotateOptions): Promise<number[][]> {
  const samples = contenders.map(() => [] as number[]);
  const warmup = options.warmup ?? 1;
  for (let round = 0; round < warmup + options.rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = (round + k) % contenders.length;
      const contender = contenders[c]!;
      options.progress?.(contender.name, round - warmup);
      await contender.prepare?.();
      const started = performance.now();
      const ran = await contender.run();
      const ms = contender.timesItself === true ? selfTimed(contender.name, ran) : performance.now() - started;
      if (round >= warmup) samples[c]!.push(ms);
    }
  }
  return samples;
}

/** The milliseconds a contender that times itself resolved to. */
function selfTimed(name: string, ran: unknown): number {
  if (typeof ran !== 'number' || !Number.isFinite(ran) || ran < 0) throw new TypeError(`contender ${name} times itself but resolved to ${String(ran)}, not a number of milliseconds`);
  return ran;
}
