/**
 * HeartbeatProtocol: detects streams whose heartbeat is older than `timeoutMs` and asks a
 * guardian what to do (restart, cancel, ignore, or "I recovered it").
 *
 * A heartbeat is one `Atomics.store` of the time into a shared slot, so a stream whose event
 * loop is busy with CPU work still beats. A monitor on the main thread checks every slot each
 * `checkIntervalMs`, so a missed deadline reaches the guardian at most `timeoutMs +
 * checkIntervalMs` after the last beat.
 *
 * Standalone, `sendHeartbeat(id)` beats from the main thread and `senderFor(id)` hands a worker
 * a handle to beat through the same memory (`HeartbeatSender.from(handle).send()`). Inside a
 * run, the coordinator watches its streams' slots with {@link HeartbeatProtocol.watch}.
 *
 * Startup grace: a watched stream that never beat is measured from when it started, so it is
 * not stuck before its first deadline.
 *
 * The monitor keeps the process alive while it watches a stream; `close()` stops it.
 */
import { int32s, place, type Region } from '../shared/arena.js';
import * as atomics from '../shared/atomics.js';
import { instantOf, now, offsetFrom } from '../shared/clock.js';
import { CapacityError, InvalidArgumentError } from '../shared/errors.js';
import { checkHandle, type Handle } from '../shared/handle.js';
import { callback, nonEmptyString, optionsObject, positiveFinite, positiveInteger } from '../shared/validate.js';

/** What the guardian is told about a stuck stream. */
export interface GuardianRequest {
  readonly streamId: string;
  /** Epoch ms of its last beat (or of its start, if it never beat). */
  readonly lastHeartbeat: number;
  /** Details sent with its last beat, if any. */
  readonly details: unknown;
  readonly reason: 'heartbeat-timeout';
  readonly timeoutMs: number;
  /** Epoch ms when the monitor noticed. */
  readonly detectedAt: number;
}

/**
 * What to do with a stuck stream: `restart` it (a new attempt), `cancel` it, `ignore` it
 * until it beats again, or `recovered`: the guardian fixed it, start its deadline afresh.
 */
export type GuardianAction = 'restart' | 'cancel' | 'ignore' | 'recovered';

/** A guardian's answer. */
export interface GuardianDecision {
  readonly action: GuardianAction;
}

/** Decides the fate of a stuck stream. May be async. */
export type Guardian = (request: GuardianRequest) => GuardianDecision | void | Promise<GuardianDecision | void>;

/** Options of a {@link HeartbeatProtocol}. */
export interface HeartbeatOptions {
  /** A stream whose last beat is older than this (ms) is stuck. Required: no default. */
  readonly timeoutMs: number;
  /** How often the monitor looks, ms. Default: a quarter of timeoutMs, at most 1000. */
  readonly checkIntervalMs?: number;
  /** Called for each stuck stream; also settable as `invokeGuardian`. Default: answers `ignore`. */
  readonly guardian?: Guardian;
  /** Standalone streams (sendHeartbeat / senderFor) it can track, at most 1,048,576. Default 64. */
  readonly capacity?: number;
  /** Hears every decision (the coordinator acts on them). Default: none. */
  readonly onDecision?: (streamId: string, decision: GuardianDecision) => void;
}

/** Structured-cloneable handle a worker beats through. */
export interface HeartbeatSenderHandle extends Handle<'HeartbeatSender'> {
  readonly index: number;
  readonly epochMs: number;
}

/** Returns the epoch ms of a stream's last beat, or undefined while it is not running. */
export type HeartbeatProbe = () => number | undefined;

interface Watched {
  readonly probe: HeartbeatProbe;
  readonly details: () => unknown;
  /** The beat already reported, so one silence is reported once. */
  reported: number | undefined;
  /** Beats before this instant do not count (set by a `recovered` decision). */
  since: number;
}

const VALID_ACTIONS: readonly GuardianAction[] = ['restart', 'cancel', 'ignore', 'recovered'];

/** Beats a standalone protocol's slot from any thread. */
export class HeartbeatSender {
  readonly #view: Int32Array;
  readonly #index: number;
  readonly #epochMs: number;

  private constructor(handle: HeartbeatSenderHandle) {
    this.#view = int32s(handle, handle.index + 1);
    this.#index = handle.index;
    this.#epochMs = handle.epochMs;
  }

  /** The sender `handle` describes. */
  static from(handle: HeartbeatSenderHandle): HeartbeatSender {
    return new HeartbeatSender(checkHandle<HeartbeatSenderHandle>(handle, 'HeartbeatSender'));
  }

  /** One beat: a single store of the time. */
  send(): void {
    atomics.store(this.#view, this.#index, offsetFrom(this.#epochMs));
  }
}

/** Heartbeat monitor with a guardian hook. See the module documentation. */
export class HeartbeatProtocol {
  /** Called for each stuck stream. Assign to override, as the spec does. */
  invokeGuardian: Guardian;
  readonly timeoutMs: number;
  readonly checkIntervalMs: number;
  /** Errors thrown by the guardian (a throwing guardian counts as `ignore`). */
  readonly guardianErrors: unknown[] = [];
  readonly #watched = new Map<string, Watched>();
  readonly #slots: Region;
  readonly #view: Int32Array;
  readonly #epochMs = now();
  readonly #ids: string[] = [];
  readonly #details = new Map<string, unknown>();
  readonly #onDecision: HeartbeatOptions['onDecision'];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: HeartbeatOptions) {
    const o = optionsObject('options', options);
    this.timeoutMs = positiveFinite('options.timeoutMs', o.timeoutMs);
    this.checkIntervalMs =
      o.checkIntervalMs === undefined ? Math.min(1000, this.timeoutMs / 4) : positiveFinite('options.checkIntervalMs', o.checkIntervalMs);
    if (o.guardian !== undefined && typeof o.guardian !== 'function') throw new InvalidArgumentError('options.guardian must be a function');
    const capacity = o.capacity === undefined ? 64 : positiveInteger('options.capacity', o.capacity, 1 << 20);
    this.invokeGuardian = o.guardian ?? (() => ({ action: 'ignore' }));
    this.#onDecision = o.onDecision;
    this.#slots = place(capacity * 4);
    this.#view = int32s(this.#slots, capacity);
    // Unref'd until something is watched: an idle monitor must not keep a process alive, a
    // watching one must (someone may be awaiting the guardian).
    this.#timer = setInterval(() => this.check(), this.checkIntervalMs).unref();
  }

  /** Records a beat of `streamId` from this thread (registers it on first use). */
  sendHeartbeat(streamId: string, details?: unknown): void {
    const index = this.#slotOf(streamId);
    atomics.store(this.#view, index, offsetFrom(this.#epochMs));
    if (details !== undefined) this.#details.set(streamId, details);
  }

  /** A handle a worker can beat `streamId` through: `HeartbeatSender.from(handle).send()`. */
  senderFor(streamId: string): HeartbeatSenderHandle {
    const index = this.#slotOf(streamId);
    return { kind: 'HeartbeatSender', buffer: this.#slots.buffer, byteOffset: this.#slots.byteOffset, index, epochMs: this.#epochMs };
  }

  /** Epoch ms of `streamId`'s last beat, if any. */
  lastHeartbeat(streamId: string): number | undefined {
    nonEmptyString('streamId', streamId);
    return this.#watched.get(streamId)?.probe();
  }

  /** Watches a stream whose beats live elsewhere (the coordinator's run memory). */
  watch(streamId: string, probe: HeartbeatProbe, details: () => unknown = () => undefined): void {
    nonEmptyString('streamId', streamId);
    callback('probe', probe);
    callback('details', details);
    this.#watched.set(streamId, { probe, details, reported: undefined, since: 0 });
    this.#timer?.ref();
  }

  /** Stops watching a stream. */
  unwatch(streamId: string): void {
    nonEmptyString('streamId', streamId);
    this.#watched.delete(streamId);
    if (this.#watched.size === 0) this.#timer?.unref();
  }

  /** Looks at every watched stream now (the monitor calls this each interval). */
  check(): void {
    const t = now();
    for (const [streamId, w] of this.#watched) {
      const beat = w.probe();
      if (beat === undefined) continue;
      const last = Math.max(beat, w.since);
      if (t - last < this.timeoutMs || w.reported === last) continue;
      w.reported = last;
      const request: GuardianRequest = { streamId, lastHeartbeat: last, details: w.details(), reason: 'heartbeat-timeout', timeoutMs: this.timeoutMs, detectedAt: t };
      void this.#ask(request, w);
    }
  }

  /** Stops the monitor. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#watched.clear();
  }

  async #ask(request: GuardianRequest, w: Watched): Promise<void> {
    let decision: GuardianDecision;
    try {
      const answer = await this.invokeGuardian(request);
      decision = answer && VALID_ACTIONS.includes(answer.action) ? answer : { action: 'ignore' };
    } catch (error) {
      this.guardianErrors.push(error);
      decision = { action: 'ignore' };
    }
    if (decision.action === 'recovered') w.since = now();
    this.#onDecision?.(request.streamId, decision);
  }

  #slotOf(streamId: string): number {
    nonEmptyString('streamId', streamId);
    let index = this.#ids.indexOf(streamId);
    if (index >= 0) return index;
    if (this.#ids.length >= this.#view.length) {
      throw new CapacityError(`HeartbeatProtocol tracks at most ${this.#view.length} streams; raise options.capacity`);
    }
    index = this.#ids.push(streamId) - 1;
    // Registered now: the startup grace runs from here until the first beat.
    atomics.store(this.#view, index, offsetFrom(this.#epochMs));
    this.watch(
      streamId,
      () => instantOf(this.#epochMs, atomics.load(this.#view, index)),
      () => this.#details.get(streamId),
    );
    return index;
  }
}
