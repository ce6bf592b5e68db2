/**
 * RedisState: versioned shared state across processes, updated by compare-and-set.
 *
 * Layout in Redis (written only by the commit script):
 * | key                             | value                                                  |
 * |---------------------------------|--------------------------------------------------------|
 * | `<prefix>:state:<name>`         | integer, the current version (absent = 0, the initial state) |
 * | `<prefix>:state:<name>:versions`| list of JSON `StateVersion`s, newest first, at most `maxVersions` |
 *
 * An update reads the current version, applies the caller's pure function locally and commits
 * only if nobody committed meanwhile (the script compares versions); otherwise it retries
 * against the newer state, until its deadline. States must be JSON values.
 *
 * **Memory consistency.** A version, once returned, is what every later reader sees as that version.
 */
import { InvalidArgumentError } from '../../shared/errors.js';
import { nonEmptyString, positiveInteger } from '../../shared/validate.js';
import { checkWaitOptions, type WaitOptions } from '../../shared/wait.js';
import type { StateVersion } from '../../protocols/immutable-state.js';
import { pollUntil } from './poll.js';
import { Script } from './script.js';
import type { Session } from './session.js';

// ARGV: expected version, record JSON, maxVersions. Returns the new version, or 0 on conflict.
const COMMIT = new Script(
  `local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], v + 1)
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return v + 1`,
);

/** Options of a {@link RedisState}. */
export interface RedisStateOptions<S> {
  /** State of version 0. Default `{}`. */
  readonly initial?: S;
  /** Versions kept in Redis; older ones are dropped. Default 100. */
  readonly maxVersions?: number;
}

/** Versioned state in Redis with compare-and-set updates. See the module documentation. */
export class RedisState<S = Record<string, unknown>> {
  /** The state's name. */
  readonly name: string;
  readonly #session: Session;
  readonly #keys: [string, string];
  readonly #initial: S;
  readonly #maxVersions: number;

  constructor(session: Session, name: string, options?: RedisStateOptions<S>) {
    this.name = nonEmptyString('name', name);
    this.#session = session;
    const key = session.key('state', name);
    this.#keys = [key, `${key}:versions`];
    this.#initial = options?.initial ?? ({} as S);
    this.#maxVersions = options?.maxVersions === undefined ? 100 : positiveInteger('options.maxVersions', options.maxVersions, 1_000_000);
  }

  /** The current version (version 0 is the initial state). */
  async current(): Promise<StateVersion<S>> {
    const json = await this.#session.redis.lindex(this.#keys[1], 0);
    if (json === null) return { version: 0, state: this.#initial, streamId: 'initial', createdAt: 0 };
    return JSON.parse(json) as StateVersion<S>;
  }

  /** The current state. */
  async getCurrentState(): Promise<S> {
    return (await this.current()).state;
  }

  /** The versions still kept, oldest first. */
  async versions(): Promise<StateVersion<S>[]> {
    const list = await this.#session.redis.lrange(this.#keys[1], 0, -1);
    return list.reverse().map((json) => JSON.parse(json) as StateVersion<S>);
  }

  /**
   * Commits `fn(current)` as the next version, retrying on conflicts with the newer state.
   * `fn` must be pure (it may run several times).
   * @throws TimeoutError | AbortedError when conflicts outlast the wait; InvalidArgumentError when the state is not JSON.
   */
  async createNewVersion(fn: (state: S) => S, streamId: string, options?: WaitOptions): Promise<StateVersion<S>> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn must be a function from the current state to the next');
    nonEmptyString('streamId', streamId);
    checkWaitOptions(options);
    return pollUntil(`RedisState ${this.name}.createNewVersion`, options, async () => {
      const base = await this.current();
      const record: StateVersion<S> = { version: base.version + 1, state: fn(base.state), streamId, createdAt: Date.now() };
      return (await this.tryCommit(record)) ? record : undefined;
    });
  }

  /**
   * Commits `record` if the current version is `record.version - 1` (an optimistic write whose
   * state was computed elsewhere, for instance on a worker thread); says whether it did.
   * @throws InvalidArgumentError when the state is not JSON.
   */
  async tryCommit(record: StateVersion<S>): Promise<boolean> {
    const json = JSON.stringify(record);
    if (json === undefined) throw new InvalidArgumentError(`RedisState ${this.name}: the new state is not a JSON value`);
    const v = await COMMIT.run(this.#session.redis, this.#keys, [record.version - 1, json, this.#maxVersions]);
    return v !== 0;
  }

  /**
   * Waits until the state reaches `version` and returns the current version then.
   * @throws TimeoutError | AbortedError
   */
  async waitForVersion(version: number, options?: WaitOptions): Promise<StateVersion<S>> {
    checkWaitOptions(options);
    return pollUntil(`RedisState ${this.name}.waitForVersion(${version})`, options, async () => {
      const current = await this.current();
      return current.version >= version ? current : undefined;
    });
  }
}
