/**
 * RedisSemaphore: `capacity` permits shared across processes and hosts.
 *
 * Layout in Redis (written only by this file's scripts, and by a waiter leaving the queue):
 * | key                                 | value                                              |
 * |-------------------------------------|----------------------------------------------------|
 * | `<prefix>:semaphore:<name>`          | hash { holder: "<session>|<permits>" }             |
 * | `<prefix>:semaphore:<name>:queue`    | list of waiting tickets, oldest first              |
 * | `<prefix>:semaphore:<name>:tickets`  | hash { ticket: session }: whose lease keeps a ticket |
 *
 * Permits held by a session whose lease lapsed are dropped by the next acquire, which reports
 * `ownerDied`; a ticket whose session lapsed (a waiter's process died) leaves the queue when it
 * reaches the head.
 *
 * **Fairness.** FIFO, as the in-process `Semaphore`: once a request waits, later requests queue
 * behind it even if they would fit, so a large request is not starved by a stream of small
 * ones; `tryAcquire` never jumps a non-empty queue. Waiters poll (Redis has no futex), so the
 * head is granted within a poll interval (at most 25 ms) of the permits coming free.
 */
import { InvalidArgumentError, NotOwnerError } from '../../shared/errors.js';
import { randomUUID } from 'node:crypto';
import { nonEmptyString, positiveInteger } from '../../shared/validate.js';
import { checkWaitOptions, type WaitOptions } from '../../shared/wait.js';
import { pollUntil } from './poll.js';
import { ALIVE_LUA, QUEUE_HEAD_LUA, Script } from './script.js';
import type { Session } from './session.js';

// KEYS: holders, queue, tickets. ARGV: prefix, session, holder, n, capacity, ticket ('' = not
// queued). Grants only to the queue's head, or to a caller without a ticket when nobody waits.
// Returns {granted 0|1, died 0|1}.
const ACQUIRE = new Script(
  ALIVE_LUA +
    QUEUE_HEAD_LUA +
    `local entries = redis.call('HGETALL', KEYS[1])
local used, died = 0, 0
for i = 1, #entries, 2 do
  local sid, p = string.match(entries[i + 1], '^(.*)|(%d+)$')
  if alive(sid) then used = used + tonumber(p) else redis.call('HDEL', KEYS[1], entries[i]); died = 1 end
end
local head = queue_head(KEYS[2], KEYS[3])
if ARGV[6] == '' then if head then return {0, died} end elseif head ~= ARGV[6] then return {0, died} end
local n = tonumber(ARGV[4])
if used + n > tonumber(ARGV[5]) then return {0, died} end
local have = 0
local cur = redis.call('HGET', KEYS[1], ARGV[3])
if cur then have = tonumber(string.match(cur, '|(%d+)$')) end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[2] .. '|' .. (have + n))
if ARGV[6] ~= '' then redis.call('LPOP', KEYS[2]); redis.call('HDEL', KEYS[3], ARGV[6]) end
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
  /** holders, queue, tickets (see the layout table). */
  readonly #keys: [string, string, string];

  /** The semaphore `name` of `capacity` permits; every user must pass the same capacity. */
  constructor(session: Session, name: string, capacity: number, holder?: string) {
    this.name = nonEmptyString('name', name);
    this.capacity = positiveInteger('capacity', capacity);
    this.#session = session;
    this.#holder = holder === undefined ? session.id : `${session.id}/${nonEmptyString('holder', holder)}`;
    const key = session.key('semaphore', name);
    this.#keys = [key, `${key}:queue`, `${key}:tickets`];
  }

  /**
   * Takes `n` permits if they are free now and nobody waits (it never jumps the queue).
   * `ownerDied` says permits of a dead holder were reclaimed on the way.
   */
  async tryAcquire(n = 1): Promise<{ acquired: boolean; ownerDied: boolean }> {
    this.#check(n);
    return this.#try(n, '');
  }

  /**
   * Takes `n` permits, waiting for them in FIFO order behind earlier waiters.
   * @throws TimeoutError | AbortedError when the wait gives up (its place in the queue is given up too).
   */
  async acquire(n = 1, options?: WaitOptions): Promise<{ ownerDied: boolean }> {
    this.#check(n);
    checkWaitOptions(options);
    // Fast path: free and nobody waiting, one round trip.
    const first = await this.#try(n, '');
    if (first.acquired) return { ownerDied: first.ownerDied };
    let died = first.ownerDied;
    const ticket = randomUUID();
    const [, queue, tickets] = this.#keys;
    const redis = this.#session.redis;
    // The ticket names this session, so it leaves the queue if this process dies waiting.
    await redis.multi().hset(tickets, ticket, this.#session.id).rpush(queue, ticket).exec();
    let granted = false;
    try {
      await pollUntil(`RedisSemaphore ${this.name}.acquire(${n})`, options, async () => {
        const r = await this.#try(n, ticket);
        died ||= r.ownerDied;
        return r.acquired ? true : undefined;
      });
      granted = true;
    } finally {
      // A waiter that gives up leaves the queue, or it would block everyone behind it.
      if (!granted) await redis.multi().lrem(queue, 0, ticket).hdel(tickets, ticket).exec();
    }
    return { ownerDied: died };
  }

  /**
   * Gives back `n` permits this holder took.
   * @throws NotOwnerError when this holder holds fewer than `n`.
   */
  async release(n = 1): Promise<void> {
    positiveInteger('n', n);
    const left = await RELEASE.run(this.#session.redis, [this.#keys[0]], [this.#holder, n]);
    if (left === -1) throw new NotOwnerError(`RedisSemaphore ${this.name}: this holder holds fewer than ${n} permits; release only what you acquired`);
  }

  async #try(n: number, ticket: string): Promise<{ acquired: boolean; ownerDied: boolean }> {
    const s = this.#session;
    const r = (await ACQUIRE.run(s.redis, this.#keys, [s.prefix, s.id, this.#holder, n, this.capacity, ticket])) as number[];
    return { acquired: r[0] === 1, ownerDied: r[1] === 1 };
  }

  #check(n: number): void {
    positiveInteger('n', n);
    if (n > this.capacity) throw new InvalidArgumentError(`n (${n}) exceeds the semaphore's capacity ${this.capacity}; it could never be granted`);
  }
}
