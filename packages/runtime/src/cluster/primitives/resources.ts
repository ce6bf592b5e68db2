/**
 * RedisResources: resource negotiation across processes ("2 cpu and 4096 memory_mb"), with the
 * same answers as the in-process `ResourceNegotiationProtocol`: granted in full; *negotiated*
 * down to what fits between `min` and the request; *queued* FIFO for `waitMs`; or *refused*
 * saying what is short. A request that can never fit is refused at once.
 *
 * Layout in Redis (written only by this file's scripts and `setCapacity`):
 * | key                               | value                                               |
 * |-----------------------------------|-----------------------------------------------------|
 * | `<prefix>:resources:<name>:cap`    | hash { resource: capacity }                         |
 * | `<prefix>:resources:<name>:held`   | hash { "<holder>\t<resource>": amount }             |
 * | `<prefix>:resources:<name>:owners` | hash { holder: session }: whose lease keeps a grant |
 * | `<prefix>:resources:<name>:queue`  | list of waiting tickets, FIFO                       |
 * | `<prefix>:resources:<name>:tickets`| hash { ticket: session }: a dead waiter's ticket is dropped |
 *
 * **Fairness.** FIFO: no request is granted, in full or negotiated, while an older one is
 * queued. **Owner death.** Grants of a holder whose session lapsed go back to the pool.
 */
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '../../shared/errors.js';
import { nonEmptyString, nonNegativeFinite, optionsObject } from '../../shared/validate.js';
import type { RequestOptions, ResourceGrant } from '../../protocols/resource-negotiation.js';
import type { ResourceAmounts } from '../../sync/resource-pool.js';
import { pollUntil } from './poll.js';
import { ALIVE_LUA, QUEUE_HEAD_LUA, Script } from './script.js';
import type { Session } from './session.js';

// KEYS: cap, held, owners, queue, tickets. ARGV: prefix, session, holder, ticket ('' = not
// queued), request JSON, min JSON ('' = none). Returns {1, allocation JSON, negotiated} or {0}.
const GRANT = new Script(
  ALIVE_LUA +
    QUEUE_HEAD_LUA +
    `local owners = redis.call('HGETALL', KEYS[3])
for i = 1, #owners, 2 do
  if not alive(owners[i + 1]) then
    local held = redis.call('HKEYS', KEYS[2])
    for _, f in ipairs(held) do if string.sub(f, 1, #owners[i] + 1) == owners[i] .. '\\t' then redis.call('HDEL', KEYS[2], f) end end
    redis.call('HDEL', KEYS[3], owners[i])
  end
end
local head = queue_head(KEYS[4], KEYS[5])
if ARGV[4] == '' then if head then return {0} end elseif head ~= ARGV[4] then return {0} end
local used = {}
local held = redis.call('HGETALL', KEYS[2])
for i = 1, #held, 2 do
  local r = string.match(held[i], '\\t(.*)$')
  used[r] = (used[r] or 0) + tonumber(held[i + 1])
end
local want = cjson.decode(ARGV[5])
local alloc, full = {}, true
for r, n in pairs(want) do
  local free = tonumber(redis.call('HGET', KEYS[1], r) or '0') - (used[r] or 0)
  if free < n then full = false end
  alloc[r] = math.min(free, n)
end
local negotiated = 0
if not full then
  if ARGV[6] == '' then return {0} end
  local least = cjson.decode(ARGV[6])
  for r, n in pairs(want) do if alloc[r] < (least[r] or n) then return {0} end end
  negotiated = 1
else
  alloc = want
end
for r, n in pairs(alloc) do if n > 0 then redis.call('HINCRBY', KEYS[2], ARGV[3] .. '\\t' .. r, n) end end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[2])
if ARGV[4] ~= '' then redis.call('LPOP', KEYS[4]); redis.call('HDEL', KEYS[5], ARGV[4]) end
return {1, cjson.encode(alloc), negotiated}`,
);

// KEYS: held, owners. ARGV: holder. Returns [resource, amount, ...] released.
const RELEASE = new Script(
  `local out = {}
local held = redis.call('HGETALL', KEYS[1])
for i = 1, #held, 2 do
  if string.sub(held[i], 1, #ARGV[1] + 1) == ARGV[1] .. '\\t' then
    table.insert(out, string.sub(held[i], #ARGV[1] + 2)); table.insert(out, held[i + 1])
    redis.call('HDEL', KEYS[1], held[i])
  end
end
redis.call('HDEL', KEYS[2], ARGV[1])
return out`,
);

/** Multi-resource negotiation in Redis. See the module documentation. */
export class RedisResources {
  /** The pool's name. */
  readonly name: string;
  readonly #session: Session;
  readonly #keys: { cap: string; held: string; owners: string; queue: string; tickets: string };

  constructor(session: Session, name: string) {
    this.name = nonEmptyString('name', name);
    this.#session = session;
    const key = session.key('resources', name);
    this.#keys = { cap: `${key}:cap`, held: `${key}:held`, owners: `${key}:owners`, queue: `${key}:queue`, tickets: `${key}:tickets` };
  }

  /** Sets the pool's capacity (once, by whoever creates the pool). */
  async setCapacity(capacity: ResourceAmounts): Promise<void> {
    const entries = Object.entries(amounts('capacity', capacity));
    if (entries.length === 0) throw new InvalidArgumentError('capacity must name at least one resource');
    await this.#session.redis.multi().del(this.#keys.cap).hset(this.#keys.cap, Object.fromEntries(entries)).exec();
  }

  /** The pool's capacity per resource. */
  async capacity(): Promise<Record<string, number>> {
    const raw = await this.#session.redis.hgetall(this.#keys.cap);
    return Object.fromEntries(Object.entries(raw).map(([r, n]) => [r, Number(n)]));
  }

  /** Requests queued now (a snapshot). */
  async queued(): Promise<number> {
    return this.#session.redis.llen(this.#keys.queue);
  }

  /** What `holder` holds now. */
  async holdings(holder: string): Promise<Record<string, number>> {
    const raw = await this.#session.redis.hgetall(this.#keys.held);
    const prefix = `${holder}\t`;
    return Object.fromEntries(Object.entries(raw).filter(([f]) => f.startsWith(prefix)).map(([f, n]) => [f.slice(prefix.length), Number(n)]));
  }

  /** Asks for `request` on behalf of `holder` (a stream id). Never throws for a refusal: the grant says why. */
  async requestResources(holder: string, request: ResourceAmounts, options?: RequestOptions): Promise<ResourceGrant> {
    nonEmptyString('holder', holder);
    const o = optionsObject('options', options);
    const want = amounts('request', request);
    const least = o.min === undefined ? undefined : amounts('options.min', o.min);
    const waitMs = o.waitMs === undefined ? undefined : nonNegativeFinite('options.waitMs', o.waitMs);
    if (least !== undefined && Object.entries(least).some(([r, n]) => n > (want[r] ?? 0))) {
      throw new InvalidArgumentError('options.min must not exceed the request in any resource');
    }
    const cap = await this.capacity();
    for (const [r, n] of Object.entries(want)) {
      if (!(r in cap)) return refusal('unknown-resource', `refused: unknown resource "${r}"; the pool has ${Object.keys(cap).join(', ')}`, want);
      if (n > cap[r]!) return refusal('exceeds-capacity', `refused: ${n} ${r} exceeds the pool's total ${cap[r]}`, want);
    }
    const now = await this.#grant(holder, '', want, least);
    if (now !== undefined) return now;
    if (waitMs === undefined || waitMs === 0) return refusal('insufficient', `refused: not enough free now for ${describe(want)}`, want);
    const ticket = randomUUID();
    const s = this.#session;
    await s.redis.multi().hset(this.#keys.tickets, ticket, s.id).rpush(this.#keys.queue, ticket).exec();
    try {
      return await pollUntil(`RedisResources ${this.name}.requestResources`, { timeoutMs: waitMs }, () => this.#grant(holder, ticket, want, undefined));
    } catch {
      await s.redis.multi().lrem(this.#keys.queue, 0, ticket).hdel(this.#keys.tickets, ticket).exec();
      return refusal('timed-out', `refused after queueing ${waitMs} ms: not enough free for ${describe(want)}`, want);
    }
  }

  /** Returns everything `holder` holds to the pool; resolves with what was released. Idempotent. */
  async releaseResources(holder: string): Promise<Record<string, number>> {
    const out = (await RELEASE.run(this.#session.redis, [this.#keys.held, this.#keys.owners], [holder])) as string[];
    const released: Record<string, number> = {};
    for (let i = 0; i < out.length; i += 2) released[out[i]!] = Number(out[i + 1]);
    return released;
  }

  async #grant(holder: string, ticket: string, want: Record<string, number>, least: Record<string, number> | undefined): Promise<ResourceGrant | undefined> {
    const s = this.#session;
    const k = this.#keys;
    const r = (await GRANT.run(s.redis, [k.cap, k.held, k.owners, k.queue, k.tickets], [
      s.prefix,
      s.id,
      holder,
      ticket,
      JSON.stringify(want),
      least === undefined ? '' : JSON.stringify(least),
    ])) as [number, string?, number?];
    if (r[0] !== 1) return undefined;
    const allocation = JSON.parse(r[1]!) as Record<string, number>;
    const negotiated = r[2] === 1;
    const message = negotiated
      ? `negotiated: granted ${describe(allocation)} of the ${describe(want)} asked`
      : ticket === '' ? 'granted in full' : 'granted in full after queueing';
    return { granted: true, negotiated, message, allocation };
  }
}

function amounts(name: string, value: ResourceAmounts): Record<string, number> {
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError(`${name} must be an object of resource amounts`);
  const out: Record<string, number> = {};
  for (const [r, n] of Object.entries(value)) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name}.${r} must be a non-negative integer, got ${String(n)}`);
    if (r.includes('\t')) throw new InvalidArgumentError(`${name}: resource names must not contain tabs`);
    out[r] = n;
  }
  return out;
}

function describe(a: Record<string, number>): string {
  return Object.entries(a).map(([r, n]) => `${n} ${r}`).join(' and ');
}

function refusal(reason: NonNullable<ResourceGrant['reason']>, message: string, want: Record<string, number>): ResourceGrant {
  return { granted: false, negotiated: false, message, allocation: Object.fromEntries(Object.keys(want).map((r) => [r, 0])), reason };
}
