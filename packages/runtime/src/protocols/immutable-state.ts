/**
 * ImmutableStateManager: versioned, immutable JSON state in shared memory. Every update applies
 * a function to the current state under a lock and stores the result as a new version; readers
 * never lock; the last `maxVersions` versions are kept and older ones are overwritten
 * (garbage-collected). Works the same from the main thread and from workers given its handle.
 *
 * Layout (one region):
 *
 * | words (Int32)   | meaning                                                               |
 * | --------------- | --------------------------------------------------------------------- |
 * | LOCK            | a robust Mutex word serialising writers                               |
 * | SEQ             | seqlock: odd while a writer copies a version in; readers retry         |
 * | VERSION (64bit) | newest version number (0: the initial state); waiters park on it      |
 * | ring[maxVersions + 1] | each: byte length, then UTF-8 JSON of { version, streamId, createdAt, state } |
 *
 * Version v lives in ring slot `v % (maxVersions + 1)`: one slot more than is retained, so the
 * slot a writer fills is never one a reader may be reading as retained. A writer bumps SEQ to odd, writes slot
 * v + 1, publishes VERSION = v + 1, and bumps SEQ to even. A writer that dies mid-copy leaves
 * SEQ odd and VERSION unchanged: the next writer gets the lock with `ownerDied`, sees the odd
 * SEQ, and evens it again; the half-written slot was never published.
 *
 * **Memory consistency.** A version's content is visible to every thread that reads VERSION
 * as that number or higher.
 */
import { int32s, int64s, type Placement } from '../shared/arena.js';
import * as atomics from '../shared/atomics.js';
import { now } from '../shared/clock.js';
import { CapacityError, InvalidArgumentError } from '../shared/errors.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { integerIn, nonEmptyString, optionsObject } from '../shared/validate.js';
import { Park, startWait, untilAsync, type WaitOptions } from '../shared/wait.js';
import { Mutex } from '../sync/mutex.js';

/** One stored version. Frozen: states are immutable. */
export interface StateVersion<S = unknown> {
  readonly version: number;
  readonly state: S;
  /** Which stream made it ('initial' for version 0). */
  readonly streamId: string;
  /** When it was made (epoch ms). */
  readonly createdAt: number;
}

/** Options of an {@link ImmutableStateManager}. */
export interface ImmutableStateOptions<S> extends Placement {
  /** Version 0. Default `{}`. Must be JSON-serialisable. */
  readonly initial?: S;
  /** Versions kept; older ones are dropped. Default 10. */
  readonly maxVersions?: number;
  /** Largest serialised version in bytes: the state's JSON plus about 70 bytes of metadata. Default 65,536. */
  readonly capacityBytes?: number;
}

/** Structured-cloneable description of an {@link ImmutableStateManager}. */
export interface ImmutableStateHandle extends Handle<'ImmutableState'> {
  readonly maxVersions: number;
  readonly capacityBytes: number;
}

const LOCK = 0;
const SEQ = 1;
const HEADER_BYTES = 16; // LOCK, SEQ, then VERSION as one BigInt64 at byte 8
const VERSION = 1; // index in the BigInt64 view of the header
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Versioned immutable state in shared memory. See the module documentation. */
export class ImmutableStateManager<S = Record<string, unknown>> {
  readonly #handle: ImmutableStateHandle;
  readonly #words: Int32Array;
  readonly #version: BigInt64Array;
  readonly #bytes: Uint8Array;
  readonly #lock: Mutex;
  readonly #maxVersions: number;
  readonly #slotBytes: number;
  // Versions never change once written, so the newest one this thread decoded stays valid.
  #cached: StateVersion<S> | undefined;

  constructor(options?: ImmutableStateOptions<S>) {
    const o = optionsObject('options', options);
    const maxVersions = o.maxVersions === undefined ? 10 : integerIn('options.maxVersions', o.maxVersions, 1, 10_000);
    const capacityBytes = o.capacityBytes === undefined ? 65_536 : integerIn('options.capacityBytes', o.capacityBytes, 16, 2 ** 28);
    const slotBytes = 4 + Math.ceil(capacityBytes / 4) * 4;
    const claim = claimRegion('ImmutableState', HEADER_BYTES + (maxVersions + 1) * slotBytes, o);
    this.#handle = claim.fresh ? { ...claim.handle, maxVersions, capacityBytes } : (claim.handle as ImmutableStateHandle);
    this.#maxVersions = this.#handle.maxVersions;
    this.#slotBytes = 4 + Math.ceil(this.#handle.capacityBytes / 4) * 4;
    this.#words = int32s(this.#handle, 2);
    this.#version = int64s(this.#handle, 2);
    this.#bytes = new Uint8Array(this.#handle.buffer, this.#handle.byteOffset, HEADER_BYTES + (this.#maxVersions + 1) * this.#slotBytes);
    // The lock word is the region's first word: the same Mutex in every thread.
    this.#lock = Mutex.from({ kind: 'Mutex', buffer: this.#handle.buffer, byteOffset: this.#handle.byteOffset });
    if (claim.fresh) this.#write(0, { version: 0, streamId: 'initial', createdAt: now(), state: (o.initial ?? {}) as S });
  }

  /** Rebuilds, in this thread, the manager that `handle` describes. */
  static from<S = Record<string, unknown>>(handle: ImmutableStateHandle): ImmutableStateManager<S> {
    return adopt(handle, () => new ImmutableStateManager<S>());
  }

  /** The structured-cloneable handle. */
  get handle(): ImmutableStateHandle {
    return this.#handle;
  }

  /** The newest version number (0 before any update). */
  get version(): number {
    return Number(atomics.load(this.#version, VERSION));
  }

  /** The newest state (frozen). Never locks. */
  getCurrentState(): S {
    return this.current().state;
  }

  /** The newest version with its metadata. Never locks. */
  current(): StateVersion<S> {
    return this.#readConsistent(() => this.#read(this.version));
  }

  /** The retained versions, oldest first: at most `maxVersions`. Never locks. */
  get stateVersions(): StateVersion<S>[] {
    return this.#readConsistent(() => {
      const newest = this.version;
      const oldest = Math.max(0, newest - this.#maxVersions + 1);
      const out: StateVersion<S>[] = [];
      for (let v = oldest; v <= newest; v++) out.push(this.#read(v));
      return out;
    });
  }

  /**
   * Applies `fn` to the current state under the lock and stores its result as the next version.
   * `fn` must be synchronous and return a JSON-serialisable state; it gets a frozen copy.
   * @throws CapacityError when the new state does not fit (nothing is stored).
   */
  async createNewVersion(fn: (state: S) => S, streamId: string, options?: WaitOptions): Promise<StateVersion<S>> {
    this.#checkUpdate(fn, streamId);
    const guard = await this.#lock.lockAsync(options);
    try {
      return this.#update(fn, streamId, guard.ownerDied);
    } finally {
      guard.unlock();
    }
  }

  /** The blocking twin of {@link createNewVersion}, for workers. */
  createNewVersionSync(fn: (state: S) => S, streamId: string, options?: WaitOptions): StateVersion<S> {
    this.#checkUpdate(fn, streamId);
    const guard = this.#lock.lock(options);
    try {
      return this.#update(fn, streamId, guard.ownerDied);
    } finally {
      guard.unlock();
    }
  }

  /** Resolves once the version reaches `version` (at once if it has). */
  async waitForVersion(version: number, options?: WaitOptions): Promise<StateVersion<S>> {
    integerIn('version', version, 0, Number.MAX_SAFE_INTEGER);
    const view = this.#version;
    await untilAsync(startWait('ImmutableStateManager.waitForVersion', options), () => {
      const v = atomics.load(view, VERSION);
      return v >= BigInt(version) || new Park(view, VERSION, v);
    });
    return this.current();
  }

  #checkUpdate(fn: unknown, streamId: string): void {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn must be a function from the current state to the next');
    nonEmptyString('streamId', streamId);
  }

  #update(fn: (state: S) => S, streamId: string, ownerDied: boolean): StateVersion<S> {
    // A writer died between its two SEQ bumps: what it wrote was never published; even SEQ again.
    if (ownerDied && (atomics.load(this.#words, SEQ) & 1) === 1) atomics.add(this.#words, SEQ, 1);
    const current = this.#read(this.version);
    const next = fn(current.state);
    if (next instanceof Promise) throw new InvalidArgumentError('fn must return the next state synchronously, not a Promise');
    const version: StateVersion<S> = { version: current.version + 1, streamId, createdAt: now(), state: next };
    const stored = this.#write(version.version, version);
    this.#cached = stored;
    return stored;
  }

  /** Stores `version` in its slot and publishes it; returns the frozen stored copy. */
  #write(v: number, version: StateVersion<S>): StateVersion<S> {
    let json: string | undefined;
    try {
      json = JSON.stringify(version);
    } catch (error) {
      throw new InvalidArgumentError(`state must be JSON-serialisable: ${(error as Error).message}`, { cause: error });
    }
    const kind = typeof version.state;
    if (json === undefined || kind === 'undefined' || kind === 'function' || kind === 'symbol') {
      throw new InvalidArgumentError(`state must be JSON-serialisable, got ${kind}`);
    }
    const encoded = encoder.encode(json);
    const room = this.#slotBytes - 4;
    if (encoded.byteLength > room) {
      throw new CapacityError(
        `state version ${v} needs ${encoded.byteLength} bytes but a version holds ${room}; create the manager with a larger options.capacityBytes`,
      );
    }
    const at = this.#slotAt(v);
    atomics.add(this.#words, SEQ, 1); // odd: readers retry
    this.#bytes.set(encoded, at + 4);
    new DataView(this.#bytes.buffer, this.#bytes.byteOffset).setUint32(at, encoded.byteLength, true);
    atomics.store(this.#version, VERSION, BigInt(v));
    atomics.add(this.#words, SEQ, 1); // even: consistent again
    atomics.notify(this.#version, VERSION);
    // The copy the caller gets is parsed from what was stored, so it never aliases caller objects.
    return deepFreeze(JSON.parse(json) as StateVersion<S>);
  }

  #read(v: number): StateVersion<S> {
    if (this.#cached?.version === v) return this.#cached;
    const at = this.#slotAt(v);
    const length = new DataView(this.#bytes.buffer, this.#bytes.byteOffset).getUint32(at, true);
    // Copy out of shared memory before decoding: TextDecoder refuses shared views.
    const json = decoder.decode(this.#bytes.slice(at + 4, at + 4 + length));
    const version = deepFreeze(JSON.parse(json) as StateVersion<S>);
    if (version.version !== v) throw new Error(`ImmutableStateManager: slot of version ${v} holds version ${version.version}`);
    if (v === this.version) this.#cached = version;
    return version;
  }

  #slotAt(v: number): number {
    return HEADER_BYTES + (v % (this.#maxVersions + 1)) * this.#slotBytes;
  }

  /** Runs `read` until no writer overlapped it (seqlock). */
  #readConsistent<T>(read: () => T): T {
    for (;;) {
      const before = atomics.load(this.#words, SEQ);
      // Odd with nobody holding the lock: the writer died mid-copy. It never published, and it
      // wrote only the spare slot, so the retained versions are intact: read them.
      if ((before & 1) === 1 && !this.#lock.isLocked) return read();
      if ((before & 1) === 0) {
        try {
          const value = read();
          if (atomics.load(this.#words, SEQ) === before) return value;
        } catch {
          // A torn read can fail to parse; the sequence check below retries it.
          if (atomics.load(this.#words, SEQ) === before) throw new Error('ImmutableStateManager: corrupt version in shared memory');
        }
      }
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
