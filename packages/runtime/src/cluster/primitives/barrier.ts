/**
 * RedisBarrier: a cyclic, breakable barrier across processes and hosts.
 *
 * Layout in Redis (written only by this file's scripts):
 * | key                                 | value                                                      |
 * |-------------------------------------|------------------------------------------------------------|
 * | `<prefix>:barrier:<name>`           | hash { gen: current round, tripped: last tripped round, broken: last broken round } (-1 = none) |
 * | `<prefix>:barrier:<name>:arrivals`  | hash { party: session } of the current round               |
 *
 * **Breakage** is all-or-none, as in one process: when a waiter times out or is aborted, when
 * `break()` is called, or when an arrived party's session lease lapses (its process died),
 * every party of that round gets `BrokenBarrierError`, and later arrivals fail at once until `reset()`.
 *
 * **Memory consistency.** What a party wrote to Redis before arriving is visible to every party
 * once its `wait()` returns.
 */
import { randomUUID } from 'node:crypto';
import { BrokenBarrierError } from '../../shared/errors.js';
import { nonEmptyString, positiveInteger } from '../../shared/validate.js';
import { checkWaitOptions, type WaitOptions } from '../../shared/wait.js';
import { pollUntil } from './poll.js';
import { ALIVE_LUA, Script } from './script.js';
import type { Session } from './session.js';

const STATE_LUA = `local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
local tripped = tonumber(redis.call('HGET', KEYS[1], 'tripped') or '-1')
local broken = tonumber(redis.call('HGET', KEYS[1], 'broken') or '-1')
local function anyDead()
  local a = redis.call('HGETALL', KEYS[2])
  for i = 2, #a, 2 do if not alive(a[i]) then return true end end
  return false
end
`;

// ARGV: prefix, session, party (unique per arrival unless the caller names its parties), parties. Returns {outcome, round}: 1 tripped it, 0 wait, -1 broken.
const ARRIVE = new Script(
  ALIVE_LUA +
    STATE_LUA +
    `if broken == gen then return {-1, gen} end
if anyDead() then redis.call('HSET', KEYS[1], 'broken', gen); return {-1, gen} end
-- A party arriving again in one round means its earlier arrival's holder is gone (a re-run of a
-- stream whose node died): that party is dead, so the round breaks, as if its lease had lapsed.
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then redis.call('HSET', KEYS[1], 'broken', gen); return {-1, gen} end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[4]) then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'gen', gen + 1, 'tripped', gen)
  return {1, gen}
end
return {0, gen}`,
);

// ARGV: prefix, round, giveUp ('1' breaks the round if it has not tripped). Returns 1 tripped, 0 wait, -1 broken.
const AWAIT = new Script(
  ALIVE_LUA +
    STATE_LUA +
    `local round = tonumber(ARGV[2])
if tripped >= round then return 1 end
if broken >= round then return -1 end
if ARGV[3] == '1' or anyDead() then redis.call('HSET', KEYS[1], 'broken', round); return -1 end
return 0`,
);

// Breaks the current round; with ARGV[2] = '1' also starts a fresh one (reset).
const BREAK = new Script(
  `local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
redis.call('HSET', KEYS[1], 'broken', gen)
if ARGV[2] == '1' then redis.call('DEL', KEYS[2]); redis.call('HSET', KEYS[1], 'gen', gen + 1) end
return gen`,
);

/** A cyclic barrier in Redis with all-or-none breakage. See the module documentation. */
export class RedisBarrier {
  /** The barrier's name. */
  readonly name: string;
  /** Parties needed to trip. */
  readonly parties: number;
  readonly #session: Session;
  readonly #keys: [string, string];

  /** The barrier `name` for `parties` parties; every party must pass the same count. */
  constructor(session: Session, name: string, parties: number) {
    this.name = nonEmptyString('name', name);
    this.parties = positiveInteger('parties', parties);
    this.#session = session;
    const key = session.key('barrier', name);
    this.#keys = [key, `${key}:arrivals`];
  }

  /** Parties waiting in the current round (a snapshot). */
  async waiting(): Promise<number> {
    return this.#session.redis.hlen(this.#keys[1]);
  }

  /**
   * Arrives and waits until every party has arrived. `options.party` names the arriving party
   * (for example a stream id): the same party arriving twice in one round breaks it, because its
   * first arrival's holder must be gone. Default: every arrival is a party of its own.
   * @returns true for the party whose arrival tripped the barrier.
   * @throws BrokenBarrierError | TimeoutError | AbortedError (a timeout or abort breaks the round for all).
   */
  async wait(options?: WaitOptions & { readonly party?: string }): Promise<boolean> {
    checkWaitOptions(options);
    const party = options?.party === undefined ? randomUUID() : nonEmptyString('options.party', options.party);
    const s = this.#session;
    const [outcome, round] = (await ARRIVE.run(s.redis, this.#keys, [s.prefix, s.id, party, this.parties])) as [number, number];
    if (outcome === 1) return true;
    if (outcome === -1) throw this.#broken();
    const check = async (giveUp: boolean): Promise<boolean | undefined> => {
      const r = await AWAIT.run(s.redis, this.#keys, [s.prefix, round, giveUp ? '1' : '0']);
      if (r === -1) throw this.#broken();
      return r === 1 ? false : undefined;
    };
    return pollUntil(`RedisBarrier ${this.name}.wait`, options, () => check(false), async () => {
      // Give up only if the round has not tripped meanwhile; then it breaks for everyone.
      const tripped = await check(true).catch(() => undefined);
      return tripped;
    });
  }

  /** Breaks the current round: its waiters and later arrivals get BrokenBarrierError until `reset()`. */
  async break(): Promise<void> {
    await BREAK.run(this.#session.redis, this.#keys, [this.#session.prefix, '0']);
  }

  /** Breaks the current round (its waiters get BrokenBarrierError) and starts a fresh one. */
  async reset(): Promise<void> {
    await BREAK.run(this.#session.redis, this.#keys, [this.#session.prefix, '1']);
  }

  #broken(): BrokenBarrierError {
    return new BrokenBarrierError(
      `RedisBarrier ${this.name} is broken (a party timed out, was aborted, failed or died); call reset() before reusing it`,
    );
  }
}
