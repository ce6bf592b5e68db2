/**
 * RedisValue: the shape shared by the single-key cluster primitives (`RedisCounter`,
 * `RedisLatch`): a named value in a session's deployment, at `<prefix>:<kind>:<name>`, read and
 * written through that session's client, changed atomically by Lua scripts on that one key.
 */
import { nonEmptyString } from '../../shared/validate.js';
import type { Script } from './script.js';
import type { Session } from './session.js';

/** A named Redis value of one kind, seen through `session`. Subclasses add the operations. */
export abstract class RedisValue {
  /** The value's name (its Redis key is derived from it). */
  readonly name: string;
  /** The session whose client and prefix it uses. */
  protected readonly session: Session;
  /** `<prefix>:<kind>:<name>`. */
  protected readonly key: string;

  /** @throws InvalidArgumentError when `name` is empty. */
  protected constructor(session: Session, kind: string, name: string) {
    this.name = nonEmptyString('name', name);
    this.session = session;
    this.key = session.key(kind, name);
  }

  /** The raw value, or null when the key is absent. */
  protected read(): Promise<string | null> {
    return this.session.redis.get(this.key);
  }

  /** Runs `script` with this value's key as KEYS[1]. */
  protected run(script: Script, args: readonly (string | number)[]): Promise<unknown> {
    return script.run(this.session.redis, [this.key], args);
  }
}
