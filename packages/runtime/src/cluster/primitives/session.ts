/**
 * Session: the liveness lease of one process (a node, a coordinator, a script using the
 * primitives). Every hold a primitive grants names the session that took it; a hold whose
 * session key has expired belongs to a dead process and is reclaimed by the next taker, who
 * is told `ownerDied`. This is the cluster's version of a robust mutex's owner word.
 *
 * Layout in Redis: `<prefix>:session:<id>` = "1" with a TTL of `leaseMs`, renewed every
 * `leaseMs / 3` from this process's event loop (written only by the owning process).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { positiveFinite } from '../../shared/validate.js';
import { within } from './poll.js';

/** How long `close()` waits for Redis to drop the lease before leaving it to expire. */
const CLOSE_MS = 1000;

/** Options of a {@link Session}. */
export interface SessionOptions {
  /** Key prefix shared by every primitive of one deployment. Default `tributary`. */
  readonly prefix?: string;
  /** How long the session outlives its last renewal: a dead process's holds lapse after this. Default 3000. */
  readonly leaseMs?: number;
}

/** The liveness lease of this process. Start it before taking anything; close it to let go. */
export class Session {
  /** Unique id of this session (what holds record as their owner). */
  readonly id = randomUUID();
  /** Key prefix of every primitive used with this session. */
  readonly prefix: string;
  /** The client the primitives of this session talk through. */
  readonly redis: Redis;
  /** Lease length (ms). */
  readonly leaseMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(redis: Redis, options?: SessionOptions) {
    this.redis = redis;
    this.prefix = options?.prefix ?? 'tributary';
    this.leaseMs = options?.leaseMs === undefined ? 3000 : positiveFinite('options.leaseMs', options.leaseMs);
  }

  /** Redis key of a primitive of kind `kind` named `name` (all keys of one deployment share the prefix). */
  key(kind: string, name: string): string {
    return `${this.prefix}:${kind}:${name}`;
  }

  /** Takes the lease and keeps renewing it until `close()`. */
  async start(): Promise<void> {
    await this.#renew();
    // A renewal that fails (Redis restarting) is retried at the next tick; the lease only lapses
    // if renewals fail for a whole leaseMs, which is what a dead process looks like.
    this.#timer = setInterval(() => void this.#renew().catch(() => {}), this.leaseMs / 3);
    this.#timer.unref();
  }

  /** Stops renewing and drops the lease: holds left behind are reclaimed as owner-died. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    // Bounded: with Redis unreachable the lease simply expires on its own.
    await within(this.redis.del(this.key('session', this.id)), CLOSE_MS);
  }

  #renew(): Promise<unknown> {
    return this.redis.set(this.key('session', this.id), '1', 'PX', this.leaseMs);
  }
}
