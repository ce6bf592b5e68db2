/**
 * Heartbeat supervision of a cluster run, on the coordinator: the same options and semantics as
 * the in-process `Supervisor` (`streams/supervisor.ts`), with beats that arrive from the nodes.
 *
 * **Beats.** A node forwards each running stream's beats in its batched job-progress update
 * (every `FLUSH_MS`, only when the stream beat since the last one, or while it is parked in a
 * blocking call: a parked stream beats, as in-process). The coordinator times a beat by its own
 * clock when the update arrives, so clocks of different hosts never meet. An attempt is watched
 * from its first beat, which its node sends when the stream function is called (module loading
 * is not being stuck, as in-process).
 *
 * **Decisions.** A stream silent for `heartbeatTimeoutMs` goes to the guardian (default:
 * restart). `restart`, within the budget, asks the stream's node to end that attempt and hand
 * the job back to the queue, where a node runs it again with `ctx.attempt + 1` and the last
 * heartbeat details as `ctx.resume`; past the budget the stream fails with the in-process
 * StreamError. `cancel` settles it as cancelled with the in-process AbortedError. Requests reach
 * the node through the run's `stop` hash (`runKeys`), naming the attempt, so a stale request
 * never stops a later attempt. A node that died is not this monitor's business: BullMQ's stall
 * recovery re-runs its jobs (a restart request for it is simply never read).
 */
import { HeartbeatProtocol, type GuardianDecision } from '../protocols/heartbeat.js';
import { now } from '../shared/clock.js';
import { AbortedError, StreamError } from '../shared/errors.js';
import { budgetSpentMessage, RestartLedger, type Supervision } from '../streams/supervisor.js';

/** The last beat of one stream's newest attempt, as heard by the coordinator. */
interface Beats {
  attempt: number;
  /** Coordinator time of the last beat of `attempt`; undefined until it first beats. */
  at: number | undefined;
  details: unknown;
  /** Beats of attempts below this are from an attempt already restarted, and ignored. */
  minAttempt: number;
}

/** What the supervisor asks of its run. */
export interface ClusterSupervised {
  /** End `attempt` of `streamId` on its node: `restart` hands the job back to the queue, `cancel` stops it. */
  stop(streamId: string, attempt: number, action: 'restart' | 'cancel'): void;
  /** The guardian cancelled the stream, or its restart budget is spent: settle it with `error` after `attempts` attempts. */
  settle(streamId: string, status: 'cancelled' | 'failed', error: Error, attempts: number): void;
}

/** Supervises the streams of one cluster run. See the module documentation. */
export class ClusterSupervisor {
  readonly #settings: Supervision;
  readonly #heartbeats: HeartbeatProtocol;
  readonly #beats = new Map<string, Beats>();
  readonly #ledger: RestartLedger<string>;
  readonly #run: ClusterSupervised;

  constructor(settings: Supervision, run: ClusterSupervised) {
    this.#settings = settings;
    this.#run = run;
    this.#ledger = new RestartLedger(settings.budget);
    this.#heartbeats = new HeartbeatProtocol({
      timeoutMs: settings.timeoutMs,
      ...(settings.checkIntervalMs === undefined ? {} : { checkIntervalMs: settings.checkIntervalMs }),
      guardian: settings.guardian,
      capacity: 1,
      onDecision: (id, decision) => this.#decided(id, decision),
    });
  }

  /** How often a node beats for a stream parked in a blocking call: three times per timeout. */
  get parkBeatMs(): number {
    return this.#settings.timeoutMs / 3;
  }

  /** A node reported a beat of `attempt` of `streamId` (with its last details, if any). */
  beat(streamId: string, attempt: number, details: unknown): void {
    let b = this.#beats.get(streamId);
    if (b === undefined) {
      b = { attempt, at: undefined, details: undefined, minAttempt: 1 };
      this.#beats.set(streamId, b);
      this.#heartbeats.watch(streamId, () => this.#beats.get(streamId)?.at, () => this.#beats.get(streamId)?.details);
    }
    if (attempt < b.minAttempt || attempt < b.attempt) return;
    b.attempt = attempt;
    b.at = now();
    if (details !== undefined) b.details = details;
  }

  /** The stream settled: stop watching it. */
  settled(streamId: string): void {
    if (this.#beats.delete(streamId)) this.#heartbeats.unwatch(streamId);
  }

  /** Stops the monitor. */
  close(): void {
    this.#heartbeats.close();
    this.#beats.clear();
  }

  #decided(streamId: string, decision: GuardianDecision): void {
    const b = this.#beats.get(streamId);
    if (b === undefined || b.at === undefined) return;
    const attempt = b.attempt;
    if (decision.action === 'cancel') {
      this.#run.stop(streamId, attempt, 'cancel');
      this.#run.settle(streamId, 'cancelled', new AbortedError(`stream ${streamId} was cancelled by the guardian after missing its heartbeat`), attempt);
    } else if (decision.action === 'restart') {
      const spent = this.#ledger.spend(streamId);
      if (spent !== undefined) {
        this.#run.stop(streamId, attempt, 'cancel');
        this.#run.settle(streamId, 'failed', new StreamError(budgetSpentMessage(streamId, spent, this.#settings.budget.withinMs)), attempt);
        return;
      }
      // Silent until the next attempt beats: its start on some node is not being stuck.
      b.minAttempt = attempt + 1;
      b.at = undefined;
      this.#run.stop(streamId, attempt, 'restart');
    }
  }
}
