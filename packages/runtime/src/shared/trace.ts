/**
 * Per-thread trace recording in Chrome's trace-event format (opens in Perfetto or
 * chrome://tracing). Off by default: every hook is a single `recording !== undefined` test.
 * A worker records while it runs a traced stream and hands its events back with the result;
 * the coordinator adds its own (stream spans, checkpoints, recoveries) and merges them.
 */

/** One Chrome trace event. `ts` and `dur` are microseconds since the epoch. */
export interface TraceEvent {
  readonly name: string;
  readonly cat: string;
  /** `X`: a span with `dur`; `i`: an instant; `M`: metadata. */
  readonly ph: 'X' | 'i' | 'M';
  readonly ts: number;
  readonly dur?: number;
  readonly pid: number;
  readonly tid: number;
  /** Instant scope: thread. */
  readonly s?: 't';
  readonly args?: Readonly<Record<string, unknown>>;
}

let recording: TraceEvent[] | undefined;
let tid = 0;

/** Microseconds since the epoch, comparable across threads. */
export function traceNow(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/** Starts recording this thread's events, attributed to thread `threadId`. */
export function startTracing(threadId: number): void {
  recording = [];
  tid = threadId;
}

/** Stops recording and returns what was recorded. */
export function stopTracing(): TraceEvent[] {
  const events = recording ?? [];
  recording = undefined;
  return events;
}

/** Whether this thread is recording. */
export function isTracing(): boolean {
  return recording !== undefined;
}

/** Records a span that started at `startUs` and ends now. */
export function traceSpan(cat: string, name: string, startUs: number, args?: Record<string, unknown>): void {
  recording?.push({ name, cat, ph: 'X', ts: startUs, dur: traceNow() - startUs, pid: process.pid, tid, ...(args ? { args } : {}) });
}

/** Records an instant event now. */
export function traceInstant(cat: string, name: string, args?: Record<string, unknown>): void {
  recording?.push({ name, cat, ph: 'i', s: 't', ts: traceNow(), pid: process.pid, tid, ...(args ? { args } : {}) });
}
