/**
 * RedisLatch: a count-down latch across processes; `wait()` returns once the count reached zero.
 *
 * Layout in Redis: `<prefix>:latch:<name>` = the remaining count (set once by the first
 * `create`, lowered by `countDown`, never below zero).
 */
import { positiveInteger, integerIn } from '../../shared/validate.js';
import { checkWaitOptions, type WaitOptions } from '../../shared/wait.js';
import { pollUntil } from './poll.js';
import { Script } from './script.js';
import type { Session } from './session.js';
import { RedisValue } from './value.js';

// Never below zero: a late countDown must not make a later wait() on a re-created latch pass.
const COUNT_DOWN = new Script(
  `local left = tonumber(redis.call('GET', KEYS[1]) or '0') - tonumber(ARGV[1])
if left < 0 then left = 0 end
redis.call('SET', KEYS[1], left)
return left`,
);

/** A count-down latch in Redis. */
export class RedisLatch extends RedisValue {
  /** The latch `name` as seen by `session`. @throws InvalidArgumentError when `name` is empty. */
  constructor(session: Session, name: string) {
    super(session, 'latch', name);
  }

  /** Sets the count to `count` unless the latch already exists (the first creator wins). */
  async create(count: number): Promise<void> {
    integerIn('count', count, 0, Number.MAX_SAFE_INTEGER);
    await this.session.redis.set(this.key, count, 'NX');
  }

  /** The remaining count (0 when open or never created). */
  async count(): Promise<number> {
    return Number((await this.read()) ?? 0);
  }

  /** Lowers the count by `n` (default 1), not below zero; returns what is left. */
  async countDown(n = 1): Promise<number> {
    positiveInteger('n', n);
    return Number(await this.run(COUNT_DOWN, [n]));
  }

  /**
   * Waits until the count is zero.
   * @throws TimeoutError | AbortedError
   */
  async wait(options?: WaitOptions): Promise<void> {
    checkWaitOptions(options);
    await pollUntil(`RedisLatch ${this.name}.wait`, options, async () => ((await this.count()) <= 0 ? true : undefined));
  }
}
