/**
 * RedisMutex: a mutual-exclusion lock across processes and hosts, with fencing tokens.
 *
 * Layout in Redis:
 * | key                        | value                                   | written by                 |
 * |----------------------------|-----------------------------------------|----------------------------|
 * | `<prefix>:mutex:<name>`    | hash { session, holder, token }         | the acquiring script only  |
 * | `<prefix>:mutex:<name>:fence` | integer, the last token granted      | the acquiring script (INCR)|
 *
 * **Fencing.** Every grant gets a token one higher than any before it (Kleppmann's fencing
 * token): stamp writes with `guard.token` and have storage reject a token lower than the last
 * it saw, so a holder that was presumed dead cannot overwrite its successor's work.
 *
 * **Owner death.** A hold lives as long as its session's lease (see `session.ts`). When the
 * holder's process dies, the next `lock()` after the lease lapses succeeds with
 * `guard.ownerDied === true` and a higher token.
 *
 * **Fairness.** Not fair: waiters poll, and whoever polls first after a release wins.
 *
 * **Memory consistency.** Redis runs scripts one at a time: everything a holder wrote to Redis
 * before `unlock()` is visible to the next holder.
 */
import { InvalidStateError, NotOwnerError } from '../../shared/errors.js';
import { nonEmptyString } from '../../shared/validate.js';
import { checkWaitOptions, type WaitOptions } from '../../shared/wait.js';
import { pollUntil } from './poll.js';
import { ALIVE_LUA, Script } from './script.js';
import type { Session } from './session.js';

// Returns {1, token, died} when granted, {0} while another live holder has it, {-1} when the
// caller itself holds it (not re-entrant: waiting would never end).
const ACQUIRE = new Script(
  ALIVE_LUA +
    `local owner = redis.call('HGET', KEYS[1], 'session')
local died = 0
if owner then
  if alive(owner) then
    if redis.call('HGET', KEYS[1], 'holder') == ARGV[3] then return {-1} end
    return {0}
  end
  died = 1
end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'session', ARGV[2], 'holder', ARGV[3], 'token', token)
return {1, token, died}`,
);

// Releases only the grant with this token: a stale holder cannot free its successor's lock.
// ARGV[2] = '1' leaves the hold to a session that never lives, so the next taker sees ownerDied.
const RELEASE = new Script(
  `if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'session', 'abandoned') else redis.call('DEL', KEYS[1]) end
return 1`,
);

/** Proof of holding a {@link RedisMutex}; release it with `unlock()` or `await using`. */
export class RedisMutexGuard implements AsyncDisposable {
  /** The fencing token of this grant: higher than every token granted before it. */
  readonly token: number;
  /** True when the previous holder's process died holding the lock: check what it guards. */
  readonly ownerDied: boolean;
  readonly #mutex: RedisMutex;
  #held = true;

  /** @internal */
  constructor(mutex: RedisMutex, token: number, ownerDied: boolean) {
    this.#mutex = mutex;
    this.token = token;
    this.ownerDied = ownerDied;
  }

  /** Whether this guard has not released its lock (it may still have lost it to a lapsed lease). */
  get held(): boolean {
    return this.#held;
  }

  /**
   * Releases the lock; `{ ownerDied: true }` hands it on as if this holder had died (the next
   * holder is told to check the data).
   * @throws InvalidStateError when already released; NotOwnerError when the lease lapsed and
   * another holder took the lock meanwhile.
   */
  async unlock(options?: { readonly ownerDied?: boolean }): Promise<void> {
    if (!this.#held) throw new InvalidStateError('this RedisMutexGuard already unlocked its mutex; unlock each guard once');
    this.#held = false;
    await this.#mutex.release(this.token, options?.ownerDied === true);
  }

  /** Releases the lock unless `unlock()` already did. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#held) await this.unlock();
  }
}

/** A lease-based, fenced mutex in Redis. See the module documentation. */
export class RedisMutex {
  /** The lock's name (its Redis key is derived from it). */
  readonly name: string;
  readonly #session: Session;
  readonly #holder: string;
  readonly #keys: [string, string];

  /**
   * The mutex `name` as seen by `session`. `holder` tells apart several holders in one process
   * (for example two streams on one node). Default: the session id.
   */
  constructor(session: Session, name: string, holder?: string) {
    this.name = nonEmptyString('name', name);
    this.#session = session;
    this.#holder = holder === undefined ? session.id : `${session.id}/${nonEmptyString('holder', holder)}`;
    const key = session.key('mutex', name);
    this.#keys = [key, `${key}:fence`];
  }

  /** Takes the lock if it is free (or its holder died), without waiting. */
  async tryLock(): Promise<RedisMutexGuard | null> {
    const r = (await ACQUIRE.run(this.#session.redis, this.#keys, [this.#session.prefix, this.#session.id, this.#holder])) as number[];
    if (r[0] === -1) throw new InvalidStateError(`RedisMutex ${this.name}: this holder already holds it (it is not re-entrant)`);
    return r[0] === 1 ? new RedisMutexGuard(this, r[1]!, r[2] === 1) : null;
  }

  /**
   * Takes the lock, waiting while another live holder has it.
   * @throws TimeoutError | AbortedError when the wait gives up; InvalidStateError when this holder already holds it.
   */
  async lock(options?: WaitOptions): Promise<RedisMutexGuard> {
    checkWaitOptions(options);
    return pollUntil(`RedisMutex ${this.name}.lock`, options, async () => (await this.tryLock()) ?? undefined);
  }

  /** Runs `fn` holding the lock, releasing it however `fn` ends. */
  async withLock<T>(fn: (guard: RedisMutexGuard) => T | Promise<T>, options?: WaitOptions): Promise<T> {
    await using guard = await this.lock(options);
    return await fn(guard);
  }

  /** @internal Releases the grant `token`. */
  async release(token: number, ownerDied: boolean): Promise<void> {
    const r = await RELEASE.run(this.#session.redis, this.#keys, [String(token), ownerDied ? '1' : '0']);
    if (r !== 1) {
      throw new NotOwnerError(
        `RedisMutex ${this.name}: grant ${token} is no longer the holder (its lease lapsed and another took it); ` +
          'keep the process alive and its event loop free while holding, and check fencing tokens in storage',
      );
    }
  }
}
