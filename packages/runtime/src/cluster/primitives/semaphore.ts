/**
 * RedisSemaphore: `capacity` permits shared across processes and hosts.
 *
 * Layout in Redis: `<prefix>:semaphore:<name>` = hash { holder: "<session>|<permits>" },
 * written only by the acquire and release scripts. Permits held by a session whose lease lapsed
 * are dropped by the next acquire, which reports `ownerDied`.
 *
 * **Fairness.** Not fair: waiters poll; a request for many permits can be overtaken by small ones.
 */
import { InvalidArgumentError, NotOwnerError } from '../../shared/errors.js';
import { nonEmptyString, positiveInteger } from '../../shared/validate.js';
import { checkWaitOptions, type WaitOptions } from '../../shared/wait.js';
import { pollUntil } from './poll.js';
import { ALIVE_LUA, Script } from './script.js';
import type { Session } from './session.js';

// ARGV: prefix, session, holder, n, capacity. Returns {granted 0|1, died 0|1}.
const ACQUIRE = new Script(
  ALIVE_LUA +
    `local entries = redis.call('HGETALL', KEYS[1])
local used, died = 0, 0
for i = 1, #entries, 2 do
  local sid, p = string.match(entries[i + 1], '^(.*)|(%d+)$')
  if alive(sid) then used = used + tonumber(p) else redis.call('HDEL', KEYS[1], entries[i]); died = 1 end
end
local n = tonumber(ARGV[4])
if used + n > tonumber(ARGV[5]) then return {0, died} end
local have = 0
local cur = redis.call('HGET', KEYS[1], ARGV[3])
if cur then have = tonumber(string.match(cur, '|(%d+)$')) end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[2] .. '|' .. (have + n))
return {1, died}`,
);

// ARGV: holder, n. Returns the permits left to the holder, or -1 if it held fewer than n.
const RELEASE = new Script(
  `local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return -1 end
local sid, have = string.match(cur, '^(.*)|(%d+)$')
local left = tonumber(have) - tonumber(ARGV[2])
if left < 0 then return -1 end
if left == 0 then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], sid .. '|' .. left) end
return left`,
);

/** A counting semaphore in Redis whose permits return when their holder's process dies. */
export class RedisSemaphore {
  /** The semaphore's name. */
  readonly name: string;
  /** Permits in all. */
  readonly capacity: number;
  readonly #session: Session;
  readonly #holder: string;
  readonly #key: string;

  /** The semaphore `name` of `capacity` permits; every user must pass the same capacity. */
  constructor(session: Session, name: string, capacity: number, holder?: string) {
    this.name = nonEmptyString('name', name);
    this.capacity = positiveInteger('capacity', capacity);
    this.#session = session;
    this.#holder = holder === undefined ? session.id : `${session.id}/${nonEmptyString('holder', holder)}`;
    this.#key = session.key('semaphore', name);
  }

  /** Takes `n` permits if free now. `ownerDied` says permits of a dead holder were reclaimed on the way. */
  async tryAcquire(n = 1): Promise<{ acquired: boolean; ownerDied: boolean }> {
    this.#check(n);
    const s = this.#session;
    const r = (await ACQUIRE.run(s.redis, [this.#key], [s.prefix, s.id, this.#holder, n, this.capacity])) as number[];
    return { acquired: r[0] === 1, ownerDied: r[1] === 1 };
  }

  /**
   * Takes `n` permits, waiting for them.
   * @throws TimeoutError | AbortedError when the wait gives up.
   */
  async acquire(n = 1, options?: WaitOptions): Promise<{ ownerDied: boolean }> {
    this.#check(n);
    checkWaitOptions(options);
    let died = false;
    await pollUntil(`RedisSemaphore ${this.name}.acquire(${n})`, options, async () => {
      const r = await this.tryAcquire(n);
      died ||= r.ownerDied;
      return r.acquired ? true : undefined;
    });
    return { ownerDied: died };
  }

  /**
   * Gives back `n` permits this holder took.
   * @throws NotOwnerError when this holder holds fewer than `n`.
   */
  async release(n = 1): Promise<void> {
    positiveInteger('n', n);
    const left = await RELEASE.run(this.#session.redis, [this.#key], [this.#holder, n]);
    if (left === -1) throw new NotOwnerError(`RedisSemaphore ${this.name}: this holder holds fewer than ${n} permits; release only what you acquired`);
  }

  #check(n: number): void {
    positiveInteger('n', n);
    if (n > this.capacity) throw new InvalidArgumentError(`n (${n}) exceeds the semaphore's capacity ${this.capacity}; it could never be granted`);
  }
}
