/**
 * Heartbeat supervision of one run: watches each running stream's heartbeat slot (from the
 * moment its stream function is called, not while its module loads), asks the guardian what
 * to do with a stuck one, and keeps each stream's restart budget (at most `maxRestarts` within
 * `withinMs`, Erlang/OTP's intensity and period).
 */
import { now } from '../shared/clock.js';
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
  readonly #restarts = new Map<number, number[]>();
  readonly #ids: readonly string[];

  constructor(settings: Supervision, ids: readonly string[], run: SupervisedRun) {
    this.#settings = settings;
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
    const { maxRestarts, withinMs } = this.#settings.budget;
    const t = now();
    const recent = (this.#restarts.get(index) ?? []).filter((at) => t - at < withinMs);
    this.#restarts.set(index, recent);
    if (recent.length >= maxRestarts) return recent.length;
    recent.push(t);
    return undefined;
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
