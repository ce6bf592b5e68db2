/**
 * The coordinator's side of aligned checkpoints. Every `intervalMs` it raises the next epoch
 * in the run's memory; each running stream arrives at its next `ctx.checkpoint()` and parks.
 * When every running stream has arrived, or the interval has passed, the coordinator records
 * `{ epoch, timestamp, streams, progress, lagging }` and releases the epoch, waking them.
 *
 * Raises happen on a fixed schedule (start + k x interval), so waiting for arrivals never
 * stretches the period. A stream that never calls `checkpoint()` is reported as lagging and
 * never waited on for longer than an interval.
 */
import * as atomics from '../shared/atomics.js';
import { now } from '../shared/clock.js';
import { parkAsync, startWait, WOKEN } from '../shared/wait.js';
import { CP_ARRIVALS, CP_EPOCH, CP_RELEASED, CP_SEEN, type RunMemory } from './layout.js';
import type { CheckpointRecord } from './types.js';

/** What the driver needs to know about the run. */
export interface CheckpointRun {
  readonly memory: RunMemory;
  readonly ids: readonly string[];
  /** Indexes of the streams running now. */
  running(): number[];
}

/** Drives aligned checkpoints until stopped. */
export class CheckpointDriver {
  readonly #run: CheckpointRun;
  readonly #intervalMs: number;
  readonly #emit: (record: CheckpointRecord) => void;
  readonly #stopped = new AbortController();
  readonly #loop: Promise<void>;

  constructor(run: CheckpointRun, intervalMs: number, emit: (record: CheckpointRecord) => void) {
    this.#run = run;
    this.#intervalMs = intervalMs;
    this.#emit = emit;
    this.#loop = this.#drive();
  }

  /** Stops raising checkpoints and releases any that is pending, so no stream waits on it. */
  async stop(): Promise<void> {
    this.#stopped.abort();
    await this.#loop;
  }

  async #drive(): Promise<void> {
    const words = this.#run.memory.words;
    const signal = this.#stopped.signal;
    let next = now() + this.#intervalMs;
    for (let epoch = 1; ; epoch++) {
      if (!(await this.#sleepUntil(next))) return;
      const live = this.#run.running();
      atomics.store(words, CP_EPOCH, epoch);
      next += this.#intervalMs;
      // Wait for arrivals until the next raise is due, parking on the arrivals word.
      const ctx = startWait(`checkpoint ${epoch}`, { timeoutMs: Math.max(0, next - now()), signal });
      while (!this.#allArrived(live, epoch)) {
        const arrivals = atomics.load(words, CP_ARRIVALS);
        if (this.#allArrived(live, epoch)) break;
        if ((await parkAsync(words, CP_ARRIVALS, arrivals, ctx)) !== WOKEN) break;
      }
      const stillRunning = new Set(this.#run.running());
      const lagging = live.filter((i) => stillRunning.has(i) && this.#run.memory.get(i, CP_SEEN) < epoch);
      const record: CheckpointRecord = {
        epoch,
        timestamp: now(),
        streams: live.map((i) => this.#run.ids[i]!),
        progress: Object.fromEntries(this.#run.ids.map((id, i) => [id, this.#run.memory.progress(i)])),
        lagging: lagging.map((i) => this.#run.ids[i]!),
      };
      atomics.store(words, CP_RELEASED, epoch);
      atomics.notify(words, CP_RELEASED);
      this.#emit(record);
      if (signal.aborted) return;
    }
  }

  #allArrived(live: readonly number[], epoch: number): boolean {
    const running = new Set(this.#run.running());
    return live.every((i) => !running.has(i) || this.#run.memory.get(i, CP_SEEN) >= epoch);
  }

  /** Resolves true at `at`, or false as soon as the driver is stopped. */
  #sleepUntil(at: number): Promise<boolean> {
    const signal = this.#stopped.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onStop);
        resolve(true);
      }, Math.max(0, at - now()));
      const onStop = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onStop, { once: true });
    });
  }
}

/** Releases every checkpoint epoch raised so far (used when a run ends). */
export function releaseAll(memory: RunMemory): void {
  atomics.store(memory.words, CP_RELEASED, atomics.load(memory.words, CP_EPOCH));
  atomics.notify(memory.words, CP_RELEASED);
}
