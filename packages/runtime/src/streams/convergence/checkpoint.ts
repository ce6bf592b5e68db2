/**
 * `checkpoint` convergence: aligned checkpoints. Every `intervalMs` the coordinator raises the
 * next epoch in the run's memory; each running stream arrives at its next `ctx.checkpoint()`
 * and parks. When every running stream has arrived, or the interval has passed, the
 * coordinator records `{ epoch, timestamp, streams, progress, lagging }`, releases the epoch
 * (waking them) and hands the record to the callback. The word protocol is `sync/raw/checkpoint.ts`.
 *
 * Raises happen on a fixed schedule (start + k x interval), so waiting for arrivals never
 * stretches the period. A stream that never calls `checkpoint()` is reported as lagging and
 * never waited on for longer than an interval.
 */
import { now } from '../../shared/clock.js';
import { parkAsync, startWait, WOKEN } from '../../shared/wait.js';
import * as raw from '../../sync/raw/checkpoint.js';
import { CP_SEEN, slotWord } from '../layout.js';
import type { CheckpointRecord } from '../types.js';
import type { ConvergenceSettings, ConvergenceStrategy, RunView } from './strategy.js';

export const checkpointConvergence: ConvergenceStrategy<CheckpointRecord> = {
  create(settings) {
    let driver: CheckpointDriver | undefined;
    return {
      checkpointIntervalMs: settings.intervalMs,
      onStart(run) {
        driver = new CheckpointDriver(run, settings);
      },
      onResult() {},
      async onEnd() {
        await driver?.stop();
      },
    };
  },
};

/** Raises, awaits and releases aligned checkpoints until stopped. */
class CheckpointDriver {
  readonly #run: RunView;
  readonly #settings: ConvergenceSettings<CheckpointRecord>;
  readonly #stopped = new AbortController();
  readonly #loop: Promise<void>;

  constructor(run: RunView, settings: ConvergenceSettings<CheckpointRecord>) {
    this.#run = run;
    this.#settings = settings;
    this.#loop = this.#drive();
  }

  /** Stops raising checkpoints and releases any that is pending, so no stream waits on it. */
  async stop(): Promise<void> {
    this.#stopped.abort();
    await this.#loop;
    raw.releaseAll(this.#run.memory.words);
  }

  async #drive(): Promise<void> {
    const words = this.#run.memory.words;
    const signal = this.#stopped.signal;
    const { intervalMs, tracer } = this.#settings;
    let next = now() + intervalMs;
    for (let epoch = 1; ; epoch++) {
      if (!(await this.#sleepUntil(next))) return;
      const live = this.#run.running();
      raw.raise(words, epoch);
      next += intervalMs;
      // Wait for arrivals until the next raise is due, parking on the arrivals word.
      const ctx = startWait(`checkpoint ${epoch}`, { timeoutMs: Math.max(0, next - now()), signal });
      while (!this.#allArrived(live, epoch)) {
        const arrivals = raw.arrivals(words);
        if (this.#allArrived(live, epoch)) break;
        if ((await parkAsync(words, raw.ARRIVALS, arrivals, ctx)) !== WOKEN) break;
      }
      const stillRunning = new Set(this.#run.running());
      const lagging = live.filter((i) => stillRunning.has(i) && this.#seen(i) < epoch);
      const { ids, memory } = this.#run;
      const record: CheckpointRecord = {
        epoch,
        timestamp: now(),
        streams: live.map((i) => ids[i]!),
        progress: Object.fromEntries(ids.map((id, i) => [id, memory.progress(i)])),
        lagging: lagging.map((i) => ids[i]!),
      };
      raw.release(words, epoch);
      tracer?.instant('checkpoint', `checkpoint ${epoch}`, { lagging: record.lagging });
      this.#settings.emit(record);
      if (signal.aborted) return;
    }
  }

  #seen(index: number): number {
    return raw.seen(this.#run.memory.words, slotWord(index, CP_SEEN));
  }

  #allArrived(live: readonly number[], epoch: number): boolean {
    const running = new Set(this.#run.running());
    return live.every((i) => !running.has(i) || this.#seen(i) >= epoch);
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
