/**
 * RedisCounter: a 64-bit integer counter across processes.
 *
 * Layout in Redis: `<prefix>:counter:<name>` = the value (absent reads as 0).
 */
import { Script } from './script.js';
import type { Session } from './session.js';
import { RedisValue } from './value.js';

const COMPARE_AND_SET = new Script(
  `if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`,
);

/** An atomic counter in Redis. Values are bigint, as Redis integers are 64-bit. */
export class RedisCounter extends RedisValue {
  /** The counter `name` as seen by `session`. @throws InvalidArgumentError when `name` is empty. */
  constructor(session: Session, name: string) {
    super(session, 'counter', name);
  }

  /** The current value. */
  async get(): Promise<bigint> {
    return BigInt((await this.read()) ?? 0);
  }

  /** Sets the value. */
  async set(value: bigint | number): Promise<void> {
    await this.session.redis.set(this.key, BigInt(value).toString());
  }

  /** Adds `delta` (default 1) and returns the new value. */
  async add(delta: bigint | number = 1n): Promise<bigint> {
    return BigInt(await this.session.redis.incrby(this.key, BigInt(delta).toString()));
  }

  /** Sets `next` if the value is `expected`; says whether it did. */
  async compareAndSet(expected: bigint | number, next: bigint | number): Promise<boolean> {
    return (await this.run(COMPARE_AND_SET, [BigInt(expected).toString(), BigInt(next).toString()])) === 1;
  }
}
