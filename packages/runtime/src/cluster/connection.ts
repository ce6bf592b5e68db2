/**
 * Redis connections of the cluster layer: one option shape for the coordinator, the nodes and
 * the primitives, and the redaction that keeps passwords out of every message we print.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { InvalidArgumentError } from '../shared/errors.js';

/**
 * Where Redis is: a `redis://` or `rediss://` (TLS) URL, a Unix socket path (absolute, or
 * `unix:/path`), ioredis options, or an ioredis client (used as given, never closed by us).
 * User and password go in the URL (`redis://user:pass@host:6379`) or in `options.username`/`password`.
 */
export type ConnectionOption = string | RedisOptions | Redis;

/** Opens a new client for `connection` (a given client is duplicated, so it is ours to close). */
export function openRedis(connection: ConnectionOption, extra: RedisOptions = {}): Redis {
  const redis = open(connection, extra);
  // Connection errors reach callers through their commands (with bounded retries); without a
  // listener ioredis would also print each reconnect attempt.
  redis.on('error', () => {});
  return redis;
}

function open(connection: ConnectionOption, extra: RedisOptions): Redis {
  if (connection instanceof Redis) return connection.duplicate(extra);
  if (typeof connection === 'string') {
    if (connection.startsWith('unix:')) return new Redis({ ...extra, path: connection.slice('unix:'.length) });
    if (connection.startsWith('/')) return new Redis({ ...extra, path: connection });
    if (!/^rediss?:\/\//.test(connection)) {
      throw new InvalidArgumentError(`options.connection must be a redis:// or rediss:// URL or a socket path, got ${redact(connection)}`);
    }
    return new Redis(connection, extra);
  }
  if (typeof connection !== 'object' || connection === null) {
    throw new InvalidArgumentError('options.connection must be a Redis URL, a socket path, ioredis options or an ioredis client');
  }
  return new Redis({ ...connection, ...extra });
}

/**
 * The client BullMQ gets for a Queue, QueueEvents or Worker: the same server, ours to close.
 * BullMQ takes a client instance as shared and never closes it, so whoever makes one must
 * `disconnect()` it after closing the BullMQ object, or its socket keeps the process alive.
 */
export function bullConnection(connection: ConnectionOption): Redis {
  // BullMQ's blocking commands must retry forever rather than fail a worker after a blip.
  return openRedis(connection, { maxRetriesPerRequest: null });
}

/** Replaces credentials in any URL inside `text` (`redis://user:secret@h` becomes `redis://***@h`). */
export function redact(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}
