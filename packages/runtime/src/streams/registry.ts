/**
 * The stream registry: every stream of the current run with its lifecycle state, attempt,
 * thread, timestamps, last heartbeat and progress. Live fields are read from the run's shared
 * memory, so a caller sees a CPU-bound stream's progress without any message.
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

/** The streams of the current (or last) run. */
export class StreamRegistry {
  #entries = new Map<string, Entry>();
  #memory: RunMemory | undefined;

  /** @internal Starts a run: forgets the last one and registers `ids`. */
  begin(ids: readonly string[], memory: RunMemory): void {
    this.#memory = memory;
    this.#entries = new Map(
      ids.map((id, index) => [id, { id, index, state: 'registered', attempt: 1, registeredAt: now(), startedAt: undefined, completedAt: undefined }]),
    );
  }

  /** @internal */
  update(id: string, change: Partial<Pick<Entry, 'state' | 'attempt' | 'startedAt' | 'completedAt'>>): void {
    const entry = this.#entries.get(id);
    if (entry !== undefined) Object.assign(entry, change);
  }

  /** The record of stream `id`, or undefined if it is not in the current run. */
  get(id: string): StreamRecord | undefined {
    const entry = this.#entries.get(id);
    return entry === undefined ? undefined : this.#record(entry);
  }

  /** Every stream of the current run, in input order. */
  list(): StreamRecord[] {
    return [...this.#entries.values()].map((e) => this.#record(e));
  }

  #record(e: Entry): StreamRecord {
    const memory = this.#memory!;
    // A queued stream a worker has picked up shows as running before the coordinator hears of it.
    const running = e.state === 'queued' && memory.get(e.index, STATE) === RUNNING;
    const threadId = e.state === 'running' || running ? memory.get(e.index, THREAD) : undefined;
    return {
      id: e.id,
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
