/**
 * A Lua script run by SHA (EVALSHA), loaded again on NOSCRIPT (after a Redis restart or
 * SCRIPT FLUSH). Every cluster primitive does its read-check-write in one script, which Redis
 * runs atomically: no other client's command interleaves.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Liveness of a session from Lua: ARGV[1] is always the key prefix. */
export const ALIVE_LUA = `local function alive(sid) return redis.call('EXISTS', ARGV[1] .. ':session:' .. sid) == 1 end\n`;

/**
 * FIFO queues of tickets from Lua (`RedisSemaphore`, `RedisResources`): `queue_head(queue, tickets)`
 * drops head tickets whose session (in the `tickets` hash) lapsed, a waiter that died, and
 * returns the live head or nil. Needs {@link ALIVE_LUA} before it.
 */
export const QUEUE_HEAD_LUA = `local function queue_head(queue, tickets)
  while true do
    local head = redis.call('LINDEX', queue, 0)
    if not head then return nil end
    local sid = redis.call('HGET', tickets, head)
    if sid and alive(sid) then return head end
    redis.call('LPOP', queue); redis.call('HDEL', tickets, head)
  end
end
`;

/** One Lua script with its SHA. */
export class Script {
  readonly #lua: string;
  readonly #sha: string;

  constructor(lua: string) {
    this.#lua = lua;
    this.#sha = createHash('sha1').update(lua).digest('hex');
  }

  /** Runs the script with `keys` and `args`. */
  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.#lua, keys.length, ...keys, ...args);
    }
  }
}
