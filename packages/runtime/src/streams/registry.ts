/**
 * The stream registry: every stream of the runs in progress (and of the last one finished)
 * with its run, lifecycle state, attempt, thread, timestamps, last heartbeat and progress.
 * Live fields are read from each run's shared memory, so a caller sees a CPU-bound stream's
 * progress without any message. Callers get a read-only view ({@link StreamRegistryView});
 * runs write through the {@link RunRecords} they open.
 */
import { now } from '../shared/clock.js';
import { RUNNING, STATE, THREAD, type RunMemory } from './layout.js';
import type { StreamRecord, StreamState } from './types.js';

interface Entry {
  readonly id: string;
  readonly index: number;
  state: StreamState;
  attempt: number;
  readonly registeredAt: number;
  startedAt: number | undefined;
  completedAt: number | undefined;
}

/** What a caller may read of the registry. */
export interface StreamRegistryView {
  /** The record of stream `id` in the newest run that has one, or undefined. */
  get(id: string): StreamRecord | undefined;
  /** Every stream of the runs in progress and of the last run finished, by run, in input order. */
  list(): StreamRecord[];
}

/** The lifecycle changes a run records. */
export type RecordChange = Partial<Pick<Entry, 'state' | 'attempt' | 'startedAt' | 'completedAt'>>;

/** One run's records, written by that run. */
export class RunRecords {
  readonly run: number;
  readonly memory: RunMemory;
  readonly entries: Map<string, Entry>;
  done = false;

  constructor(run: number, ids: readonly string[], memory: RunMemory) {
    this.run = run;
    this.memory = memory;
    const at = now();
    this.entries = new Map(ids.map((id, index) => [id, { id, index, state: 'registered', attempt: 1, registeredAt: at, startedAt: undefined, completedAt: undefined }]));
  }

  /** Records a change of stream `id`. */
  update(id: string, change: RecordChange): void {
    const entry = this.entries.get(id);
    if (entry !== undefined) Object.assign(entry, change);
  }

  /** The run settled: its records stay until the next run begins. */
  finish(): void {
    this.done = true;
  }

  /** The record of `entry`, with its live fields read from shared memory. */
  record(e: Entry): StreamRecord {
    const memory = this.memory;
    // A queued stream a worker has picked up shows as running before the coordinator hears of it.
    const running = e.state === 'queued' && memory.get(e.index, STATE) === RUNNING;
    const threadId = e.state === 'running' || running ? memory.get(e.index, THREAD) : undefined;
    return {
      id: e.id,
      run: this.run,
      state: running ? 'running' : e.state,
      attempt: e.attempt,
      threadId,
      registeredAt: e.registeredAt,
      startedAt: e.startedAt,
      completedAt: e.completedAt,
      lastHeartbeat: memory.lastHeartbeat(e.index),
      progress: memory.progress(e.index),
    };
  }
}

/** The streams of a coordinator's runs. */
export class StreamRegistry implements StreamRegistryView {
  #runs: RunRecords[] = [];

  /** Opens the records of a new run, forgetting the runs already finished. */
  open(run: number, ids: readonly string[], memory: RunMemory): RunRecords {
    const records = new RunRecords(run, ids, memory);
    this.#runs = [...this.#runs.filter((r) => !r.done), records];
    return records;
  }

  get(id: string): StreamRecord | undefined {
    for (let i = this.#runs.length - 1; i >= 0; i--) {
      const run = this.#runs[i]!;
      const entry = run.entries.get(id);
      if (entry !== undefined) return run.record(entry);
    }
    return undefined;
  }

  list(): StreamRecord[] {
    return this.#runs.flatMap((run) => [...run.entries.values()].map((e) => run.record(e)));
  }
}
