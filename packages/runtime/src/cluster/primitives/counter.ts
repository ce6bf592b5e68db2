/**
 * RedisCounter: a 64-bit integer counter across processes.
 *
 * Layout in Redis: `<prefix>:counter:<name>` = the value (absent reads as 0).
 */
import { nonEmptyString } from '../../shared/validate.js';
import { Script } from './script.js';
import type { Session } from './session.js';

const COMPARE_AND_SET = new Script(
  `if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`,
);

/** An atomic counter in Redis. Values are bigint, as Redis integers are 64-bit. */
export class RedisCounter {
  /** The counter's name. */
  readonly name: string;
  readonly #session: Session;
  readonly #key: string;

  constructor(session: Session, name: string) {
    this.name = nonEmptyString('name', name);
    this.#session = session;
    this.#key = session.key('counter', name);
  }

  /** The current value. */
  async get(): Promise<bigint> {
    return BigInt((await this.#session.redis.get(this.#key)) ?? 0);
  }

  /** Sets the value. */
  async set(value: bigint | number): Promise<void> {
    await this.#session.redis.set(this.#key, BigInt(value).toString());
  }

  /** Adds `delta` (default 1) and returns the new value. */
  async add(delta: bigint | number = 1n): Promise<bigint> {
    return BigInt(await this.#session.redis.incrby(this.#key, BigInt(delta).toString()));
  }

  /** Sets `next` if the value is `expected`; says whether it did. */
  async compareAndSet(expected: bigint | number, next: bigint | number): Promise<boolean> {
    const r = await COMPARE_AND_SET.run(this.#session.redis, [this.#key], [BigInt(expected).toString(), BigInt(next).toString()]);
    return r === 1;
  }
}
