/**
 * Heartbeat supervision of one run: watches each running stream's heartbeat slot (from the
 * moment its stream function is called, not while its module loads), asks the guardian what
 * to do with a stuck one, and keeps each stream's restart budget (at most `maxRestarts` within
 * `withinMs`, Erlang/OTP's intensity and period).
 */
import { now } from '../shared/clock.js';
import { InvalidArgumentError } from '../shared/errors.js';
import { integerIn, positiveFinite } from '../shared/validate.js';
import { HeartbeatProtocol, type Guardian, type GuardianDecision } from '../protocols/heartbeat.js';
import { RUNNING, STATE, type RunMemory } from './layout.js';

/** At most `maxRestarts` restarts of one stream within `withinMs` (Erlang/OTP's intensity/period). */
export interface RestartBudget {
  /** Restarts allowed within the period. */
  readonly maxRestarts: number;
  /** The period, in ms. */
  readonly withinMs: number;
}

/** Heartbeat supervision settings of a coordinator. */
export interface Supervision {
  readonly timeoutMs: number;
  readonly checkIntervalMs: number | undefined;
  readonly guardian: Guardian;
  readonly budget: RestartBudget;
}

/** The supervision options a coordinator takes (in-process and cluster alike). */
export interface SupervisionOptions {
  /** A running stream silent for this long is stuck. Default: no supervision. */
  readonly heartbeatTimeoutMs?: number;
  /** How often heartbeats are checked. Default: a quarter of heartbeatTimeoutMs, at most 1000. */
  readonly heartbeatCheckIntervalMs?: number;
  /** Decides what happens to a stuck stream. Default: restart it (within the budget). */
  readonly guardian?: Guardian;
  /** Restarts allowed per stream. Default: 3 within 60,000 ms. */
  readonly restartBudget?: RestartBudget;
}

/**
 * Checks a coordinator's supervision options: undefined without `heartbeatTimeoutMs` (no
 * supervision); otherwise the guardian defaults to restart and the budget to 3 within 60,000 ms.
 */
export function supervisionOptions(o: SupervisionOptions): Supervision | undefined {
  if (o.heartbeatTimeoutMs === undefined) return undefined;
  const timeoutMs = positiveFinite('options.heartbeatTimeoutMs', o.heartbeatTimeoutMs);
  if (o.guardian !== undefined && typeof o.guardian !== 'function') throw new InvalidArgumentError('options.guardian must be a function');
  const budget = o.restartBudget ?? { maxRestarts: 3, withinMs: 60_000 };
  integerIn('options.restartBudget.maxRestarts', budget.maxRestarts, 0, 1_000_000);
  positiveFinite('options.restartBudget.withinMs', budget.withinMs);
  return {
    timeoutMs,
    checkIntervalMs: o.heartbeatCheckIntervalMs === undefined ? undefined : positiveFinite('options.heartbeatCheckIntervalMs', o.heartbeatCheckIntervalMs),
    guardian: o.guardian ?? (() => ({ action: 'restart' })),
    budget,
  };
}

/** Each stream's restarts within the budget's period (a sliding window, as OTP counts them). */
export class RestartLedger<K> {
  readonly #budget: RestartBudget;
  readonly #restarts = new Map<K, number[]>();

  constructor(budget: RestartBudget) {
    this.#budget = budget;
  }

  /** Records a restart of `key` if the budget allows one; returns the restarts already spent in the period when it does not. */
  spend(key: K): number | undefined {
    const { maxRestarts, withinMs } = this.#budget;
    const t = now();
    const recent = (this.#restarts.get(key) ?? []).filter((at) => t - at < withinMs);
    this.#restarts.set(key, recent);
    if (recent.length >= maxRestarts) return recent.length;
    recent.push(t);
    return undefined;
  }
}

/** The error a stream fails with once it stopped beating more often than its budget allows. */
export function budgetSpentMessage(streamId: string, spent: number, withinMs: number): string {
  return `stream ${streamId} stopped beating again after ${spent} restart(s) within ${withinMs} ms: restart budget spent`;
}

/** What the supervisor does to a run's streams. */
export interface SupervisedRun {
  readonly memory: RunMemory;
  /** The guardian asked for stream `index` to be restarted or cancelled. */
  decided(index: number, decision: GuardianDecision): void;
}

/** Supervises one run's streams. */
export class Supervisor {
  readonly #settings: Supervision;
  readonly #heartbeats: HeartbeatProtocol;
  readonly #restarts: RestartLedger<number>;
  readonly #ids: readonly string[];

  constructor(settings: Supervision, ids: readonly string[], run: SupervisedRun) {
    this.#settings = settings;
    this.#restarts = new RestartLedger(settings.budget);
    this.#ids = ids;
    this.#heartbeats = new HeartbeatProtocol({
      timeoutMs: settings.timeoutMs,
      ...(settings.checkIntervalMs === undefined ? {} : { checkIntervalMs: settings.checkIntervalMs }),
      guardian: settings.guardian,
      onDecision: (id, decision) => run.decided(ids.indexOf(id), decision),
    });
    this.#run = run;
  }
  readonly #run: SupervisedRun;

  /** How often a parked stream must beat to look alive: three times per timeout. */
  get parkBeatMs(): number {
    return this.#settings.timeoutMs / 3;
  }

  /** Watches stream `index`'s current attempt; `details` gives its last heartbeat details. */
  watch(index: number, details: () => unknown): void {
    const memory = this.#run.memory;
    this.#heartbeats.watch(
      this.#ids[index]!,
      // Silent until the stream function is called: module loading is not being stuck.
      () => (memory.get(index, STATE) === RUNNING ? (memory.lastHeartbeat(index) ?? memory.startedAt(index)) : undefined),
      details,
    );
  }

  /** Stops watching stream `index`. */
  unwatch(index: number): void {
    this.#heartbeats.unwatch(this.#ids[index]!);
  }

  /**
   * Records a restart of stream `index` if its budget allows one; returns the restarts
   * already spent in the period when it does not.
   */
  spendRestart(index: number): number | undefined {
    return this.#restarts.spend(index);
  }

  /** The restart budget's period, for messages. */
  get budgetWithinMs(): number {
    return this.#settings.budget.withinMs;
  }

  /** Stops the monitor. */
  close(): void {
    this.#heartbeats.close();
  }
}
