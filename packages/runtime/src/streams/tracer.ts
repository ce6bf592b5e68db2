/**
 * The coordinator's trace collector: its own events (stream attempts, checkpoints,
 * recoveries) plus the events each traced worker hands back, as one Chrome trace-event
 * document with a named track per thread.
 */
import { threadId } from 'node:worker_threads';
import { traceNow, type TraceEvent } from '../shared/trace.js';
import type { StreamOutcome } from './task.js';

/** A Chrome trace-event document (`{ traceEvents }`), ready for `JSON.stringify`. */
export interface TraceDocument {
  readonly traceEvents: readonly TraceEvent[];
  readonly displayTimeUnit: 'ms';
}

/** Collects trace events across threads. */
export class Tracer {
  readonly #events: TraceEvent[] = [];

  /** Adds events a worker recorded. */
  add(events: readonly TraceEvent[]): void {
    this.#events.push(...events);
  }

  /** A span on thread `tid` from `startUs` to now. */
  span(cat: string, name: string, tid: number, startUs: number, args?: Record<string, unknown>): void {
    this.#events.push({ name, cat, ph: 'X', ts: startUs, dur: traceNow() - startUs, pid: process.pid, tid, ...(args ? { args } : {}) });
  }

  /** An instant on thread `tid` (default: this, the coordinator's, thread). */
  instant(cat: string, name: string, args?: Record<string, unknown>, tid: number = threadId): void {
    this.#events.push({ name, cat, ph: 'i', s: 't', ts: traceNow(), pid: process.pid, tid, ...(args ? { args } : {}) });
  }

  /**
   * What one attempt of a stream recorded: the worker's own events, and the attempt as a span
   * on its thread from `startedMs` (absent for an attempt a restart replaced: its span was
   * drawn as stuck when it was replaced).
   */
  attempt(id: string, attempt: number, tid: number, startedMs: number | undefined, outcome: StreamOutcome): void {
    if (outcome.trace !== undefined) this.add(outcome.trace);
    if (startedMs !== undefined) this.span('stream', `${id} #${attempt}`, tid, startedMs * 1000, { status: outcome.ok ? 'complete' : outcome.error.name });
  }

  /** A guardian restart of stream `id`'s attempt `attempt`, stuck on thread `tid` since `stuckSinceMs`. */
  restart(id: string, attempt: number, tid: number, stuckSinceMs: number | undefined): void {
    this.instant('recovery', `restart ${id}`, { attempt: attempt + 1 }, tid);
    if (stuckSinceMs !== undefined) this.span('stream', `${id} #${attempt} (stuck)`, tid, stuckSinceMs * 1000);
  }

  /** Everything recorded, with a named track per thread. */
  document(): TraceDocument {
    const threads = [...new Set(this.#events.map((e) => e.tid))].sort((a, b) => a - b);
    const names: TraceEvent[] = threads.map((tid) => ({
      name: 'thread_name',
      cat: '__metadata',
      ph: 'M',
      ts: 0,
      pid: process.pid,
      tid,
      args: { name: tid === threadId ? 'coordinator (main thread)' : `worker thread ${tid}` },
    }));
    return { traceEvents: [...names, ...this.#events], displayTimeUnit: 'ms' };
  }
}
