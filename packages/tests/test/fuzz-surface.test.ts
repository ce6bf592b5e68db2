// Issue 12 item 8: every public constructor and method x every kind of bad value. Each call
// must succeed or throw a TributaryError with a code: never a raw TypeError/RangeError, never a
// hang (each call is bounded), never a silent acceptance of nonsense. Calls run in a seeded
// order (seed printed; TRIBUTARY_SEED replays it).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  Barrier,
  Counter,
  DirectoryIsolation,
  FileLockManager,
  HeartbeatProtocol,
  HeartbeatSender,
  ImmutableStateManager,
  ImplementationAgent,
  Latch,
  Mutex,
  ResourceNegotiationProtocol,
  ResourcePool,
  RwLock,
  Semaphore,
  StreamCoordinator,
  TributaryError,
} from '@tributary/runtime';
// Internal since the public surface was cut, but still what options.arena takes.
import { Arena } from '../../runtime/dist/shared/arena.js';
import { anything, fn, handle, int, int64, KINDS, only, options, str, waitOptions, type Kind, type Param } from './fuzz-kinds.js';
import { seeded } from './fuzz-random.js';
import { streamModule } from './helpers.js';

/** Longest a single call may take before it counts as a hang. */
const CALL_MS = 3_000;

interface Target {
  readonly name: string;
  readonly params: readonly Param[];
  readonly call: (...args: any[]) => unknown;
}

// Subjects that hold threads, timers or directories are closed after each call.
let closers: (() => unknown)[] = [];
function closeLater<T>(value: T, close: (v: T) => unknown): T {
  closers.push(() => close(value));
  return value;
}

let dir: string;
let coordinator: StreamCoordinator;
let agent: ImplementationAgent;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tributary-fuzz-'));
  coordinator = new StreamCoordinator({ maxThreads: 1, minThreads: 0 });
  agent = new ImplementationAgent({ maxThreads: 1, root: join(dir, 'agent') });
});
afterAll(async () => {
  await coordinator?.close();
  await agent?.close();
  await rm(dir, { recursive: true, force: true });
});

const placement = options('options');
const amounts = (name: string): Param => anything(name, () => ({ cpu: 1 }));
const heartbeat = (): HeartbeatProtocol => closeLater(new HeartbeatProtocol({ timeoutMs: 1_000 }), (h) => h.close());
const locks = (): FileLockManager => closeLater(new FileLockManager({ crossProcess: false }), (l) => l.close());
const isolation = (): DirectoryIsolation => new DirectoryIsolation({ root: join(dir, 'iso') });
const held = (s: Semaphore): Semaphore => (s.tryAcquire(s.capacity), s);

const TARGETS: readonly Target[] = [
  // shared
  { name: 'new Arena', params: [int('byteLength', 1, 2 ** 32, 64)], call: (n) => new Arena(n) },
  { name: 'arena.allocate', params: [int('byteLength', 0, 64, 8)], call: (n) => new Arena(64).allocate(n) },
  // sync
  { name: 'new Mutex', params: [placement], call: (o) => new Mutex(o) },
  { name: 'Mutex.from', params: [handle(() => new Mutex())], call: (h) => Mutex.from(h) },
  { name: 'mutex.lock', params: [waitOptions()], call: (o) => new Mutex().lock(o).unlock() },
  { name: 'mutex.lockAsync', params: [waitOptions()], call: async (o) => (await new Mutex().lockAsync(o)).unlock() },
  { name: 'mutex.withLock', params: [fn('fn', () => () => 1), waitOptions()], call: (f, o) => new Mutex().withLock(f, o) },
  { name: 'mutex.withLockAsync', params: [fn('fn', () => async () => 1), waitOptions()], call: (f, o) => new Mutex().withLockAsync(f, o) },
  { name: 'new RwLock', params: [placement], call: (o) => new RwLock(o) },
  { name: 'RwLock.from', params: [handle(() => new RwLock())], call: (h) => RwLock.from(h) },
  { name: 'rwlock.read', params: [waitOptions()], call: (o) => new RwLock().read(o).unlock() },
  { name: 'rwlock.readAsync', params: [waitOptions()], call: async (o) => (await new RwLock().readAsync(o)).unlock() },
  { name: 'rwlock.write', params: [waitOptions()], call: (o) => new RwLock().write(o).unlock() },
  { name: 'rwlock.writeAsync', params: [waitOptions()], call: async (o) => (await new RwLock().writeAsync(o)).unlock() },
  { name: 'new Semaphore', params: [int('permits', 0, 2 ** 31 - 1, 2), placement], call: (n, o) => new Semaphore(n, o) },
  { name: 'Semaphore.from', params: [handle(() => new Semaphore(1))], call: (h) => Semaphore.from(h) },
  { name: 'semaphore.tryAcquire', params: [int('n', 1, 4, 1, true)], call: (n) => new Semaphore(4).tryAcquire(n) },
  { name: 'semaphore.acquire', params: [int('n', 1, 4, 1, true), waitOptions()], call: (n, o) => new Semaphore(4).acquire(n, o) },
  { name: 'semaphore.acquireAsync', params: [int('n', 1, 4, 1, true), waitOptions()], call: (n, o) => new Semaphore(4).acquireAsync(n, o) },
  { name: 'semaphore.release', params: [int('n', 1, 4, 1, true)], call: (n) => held(new Semaphore(4)).release(n) },
  { name: 'new ResourcePool', params: [amounts('capacity'), placement], call: (c, o) => new ResourcePool(c, o) },
  { name: 'ResourcePool.from', params: [handle(() => new ResourcePool({ cpu: 2 }))], call: (h) => ResourcePool.from(h) },
  { name: 'pool.amountsOf', params: [amounts('request')], call: (r) => new ResourcePool({ cpu: 2 }).amountsOf(r) },
  { name: 'pool.tryAcquire', params: [amounts('request')], call: (r) => new ResourcePool({ cpu: 2 }).tryAcquire(r) },
  { name: 'pool.acquire', params: [amounts('request'), waitOptions()], call: (r, o) => new ResourcePool({ cpu: 2 }).acquire(r, o) },
  { name: 'pool.acquireAsync', params: [amounts('request'), waitOptions()], call: (r, o) => new ResourcePool({ cpu: 2 }).acquireAsync(r, o) },
  {
    name: 'pool.release',
    params: [amounts('request')],
    call: (r) => {
      const pool = new ResourcePool({ cpu: 2 });
      pool.tryAcquire({ cpu: 2 });
      pool.release(r);
    },
  },
  { name: 'new Barrier', params: [int('parties', 1, 2 ** 15, 1), placement], call: (n, o) => new Barrier(n, o) },
  { name: 'Barrier.from', params: [handle(() => new Barrier(1))], call: (h) => Barrier.from(h) },
  { name: 'barrier.wait', params: [waitOptions()], call: (o) => new Barrier(1).wait(o) },
  { name: 'barrier.waitAsync', params: [waitOptions()], call: (o) => new Barrier(1).waitAsync(o) },
  { name: 'new Latch', params: [int('count', 0, 2 ** 31 - 1, 1), placement], call: (n, o) => new Latch(n, o) },
  { name: 'Latch.from', params: [handle(() => new Latch(1))], call: (h) => Latch.from(h) },
  { name: 'latch.countDown', params: [int('n', 1, 2 ** 31 - 1, 1, true)], call: (n) => new Latch(4).countDown(n) },
  { name: 'latch.wait', params: [waitOptions()], call: (o) => new Latch(0).wait(o) },
  { name: 'latch.waitAsync', params: [waitOptions()], call: (o) => new Latch(0).waitAsync(o) },
  { name: 'new Counter', params: [int64('initial', true), placement], call: (v, o) => new Counter(v, o) },
  { name: 'Counter.from', params: [handle(() => new Counter())], call: (h) => Counter.from(h) },
  { name: 'counter.set', params: [int64('value')], call: (v) => new Counter().set(v) },
  { name: 'counter.add', params: [int64('delta', true)], call: (v) => new Counter().add(v) },
  { name: 'counter.compareAndSet', params: [int64('expected'), int64('next')], call: (e, n) => new Counter().compareAndSet(e, n) },
  // protocols
  { name: 'new HeartbeatProtocol', params: [only('options', () => ({ timeoutMs: 1_000 }), { timeoutMs: 2 ** 31, checkIntervalMs: 2 ** 31, capacity: 0, guardian: 1 })], call: (o) => closeLater(new HeartbeatProtocol(o), (h) => h.close()) },
  { name: 'heartbeat.sendHeartbeat', params: [str('streamId'), anything('details', () => undefined)], call: (id, d) => heartbeat().sendHeartbeat(id, d) },
  { name: 'heartbeat.senderFor', params: [str('streamId')], call: (id) => heartbeat().senderFor(id) },
  { name: 'heartbeat.lastHeartbeat', params: [str('streamId')], call: (id) => heartbeat().lastHeartbeat(id) },
  {
    name: 'heartbeat.watch',
    params: [str('streamId'), fn('probe', () => () => undefined), fn('details', () => () => undefined, true)],
    call: (id, p, d) => heartbeat().watch(id, p, d),
  },
  { name: 'heartbeat.unwatch', params: [str('streamId')], call: (id) => heartbeat().unwatch(id) },
  { name: 'HeartbeatSender.from', params: [handle(() => ({ handle: heartbeat().senderFor('s') }))], call: (h) => HeartbeatSender.from(h) },
  { name: 'new ImmutableStateManager', params: [placement], call: (o) => new ImmutableStateManager(o) },
  { name: 'ImmutableStateManager.from', params: [handle(() => new ImmutableStateManager())], call: (h) => ImmutableStateManager.from(h) },
  {
    name: 'state.createNewVersion',
    params: [fn('fn', () => (s: object) => ({ ...s, n: 1 })), str('streamId'), waitOptions()],
    call: (f, id, o) => new ImmutableStateManager().createNewVersion(f, id, o),
  },
  {
    name: 'state.createNewVersionSync',
    params: [fn('fn', () => (s: object) => ({ ...s, n: 1 })), str('streamId'), waitOptions()],
    call: (f, id, o) => new ImmutableStateManager().createNewVersionSync(f, id, o),
  },
  { name: 'state.waitForVersion', params: [int('version', 0, 0, 0), waitOptions()], call: (v, o) => new ImmutableStateManager().waitForVersion(v, o) },
  { name: 'new ResourceNegotiationProtocol', params: [amounts('pool'), options('options')], call: (p, o) => new ResourceNegotiationProtocol(p, o) },
  {
    name: 'ResourceNegotiationProtocol.from',
    params: [handle(() => new ResourceNegotiationProtocol({ cpu: 2 }))],
    call: (h) => ResourceNegotiationProtocol.from(h),
  },
  { name: 'negotiation.holdings', params: [str('streamId')], call: (id) => new ResourceNegotiationProtocol({ cpu: 2 }).holdings(id) },
  {
    name: 'negotiation.requestResources',
    params: [str('streamId'), amounts('request'), options('options', () => undefined, { waitMs: 2 ** 31 })],
    call: (id, r, o) => new ResourceNegotiationProtocol({ cpu: 2 }).requestResources(id, r, o),
  },
  { name: 'negotiation.releaseResources', params: [str('streamId')], call: (id) => new ResourceNegotiationProtocol({ cpu: 2 }).releaseResources(id) },
  // fs
  { name: 'new FileLockManager', params: [options('options', () => ({ crossProcess: false }), { timeoutMs: 2 ** 31, staleMs: 2 ** 31, maxFiles: 0, crossProcess: 1 })], call: (o) => closeLater(new FileLockManager(o), (l) => l.close()) },
  {
    name: 'FileLockManager.from',
    params: [handle(() => locks()), only('processLocks', () => ({ acquire: async () => false, release: async () => {} }))],
    call: (h, p) => FileLockManager.from(h, p),
  },
  {
    name: 'locks.acquireFileLock',
    params: [str('path', join(tmpdir(), 'tributary-fuzz-lock.txt')), anything('mode', () => 'write'), waitOptions()],
    call: async (p, m, o) => (await locks().acquireFileLock(p, m, o)).release(),
  },
  { name: 'new DirectoryIsolation', params: [options('options', () => ({ root: join(dir, 'iso') }))], call: (o) => closeLater(new DirectoryIsolation(o), (i) => i.cleanup()) },
  { name: 'isolation.allocateStreamDirectory', params: [str('streamId')], call: (id) => isolation().allocateStreamDirectory(id) },
  { name: 'isolation.directoryOf', params: [str('streamId')], call: (id) => isolation().directoryOf(id) },
  { name: 'isolation.mergeStreamOutputs', params: [options('options')], call: (o) => isolation().mergeStreamOutputs(o) },
  // streams and agent (one long-lived instance each: threads are slow to start)
  { name: 'new StreamCoordinator', params: [options('options', () => ({ maxThreads: 1, minThreads: 0 }), { heartbeatTimeoutMs: 2 ** 31, cancelGraceMs: 2 ** 31, idleTimeoutMs: 2 ** 31, maxThreads: 0 })], call: (o) => closeLater(new StreamCoordinator(o), (c) => c.close()) },
  { name: 'coordinator.configureConvergence', params: [only('options', () => ({ type: 'barrier' }), { type: 10n, intervalMs: 2 ** 31, callback: 1 })], call: (o) => coordinator.configureConvergence(o) },
  { name: 'coordinator.executeParallel', params: [only('streams', () => []), options('options', () => undefined, { signal: 1, convergenceType: 'nope' })], call: (s, o) => coordinator.executeParallel(s, o) },
  {
    // A stream's input crosses to a worker: a failure there must come back typed too.
    name: 'stream input',
    params: [anything('input', () => 1)],
    call: async (input) => {
      const [result] = await coordinator.executeParallel([{ id: 'echo', task: streamModule('echo.mjs'), input }]);
      if (result!.status === 'failed' && !String(result!.error?.code).startsWith('ERR_TRIBUTARY_')) {
        throw Object.assign(new Error(result!.error?.message), { name: result!.error?.name });
      }
    },
  },
  { name: 'new ImplementationAgent', params: [options('options', () => ({ maxThreads: 1, root: join(dir, 'agent2') }))], call: (o) => closeLater(new ImplementationAgent(o), (a) => a.close()) },
  { name: 'agent.configureCoordination', params: [options('config', () => undefined, { convergenceType: 10n, heartbeatTimeoutMs: 2 ** 31, isolation: Symbol('x') })], call: (c) => agent.configureCoordination(c) },
  { name: 'agent.registerTaskType', params: [str('name', 'fuzz'), only('type', () => ({ task: join(dir, 'none.mjs') }))], call: (n, t) => agent.registerTaskType(n, t) },
  { name: 'agent.executeTask', params: [only('request', () => ({ type: 'nope' }))], call: (r) => agent.executeTask(r) },
];

// Findings left for a redesign outside this change, keyed `target param=kind`; each says why.
const KNOWN: Readonly<Record<string, string>> = {};

type Outcome = { readonly kind: 'ok' } | { readonly kind: 'typed' } | { readonly kind: 'raw'; readonly error: unknown } | { readonly kind: 'hang' };

async function attempt(call: () => unknown): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ kind: 'hang' }), CALL_MS)));
  const run = (async (): Promise<Outcome> => {
    try {
      await call();
      return { kind: 'ok' };
    } catch (error) {
      return error instanceof TributaryError && typeof error.code === 'string' && error.code.startsWith('ERR_TRIBUTARY_')
        ? { kind: 'typed' }
        : { kind: 'raw', error };
    }
  })();
  try {
    return await Promise.race([run, hang]);
  } finally {
    clearTimeout(timer);
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.split('\n')[0]}`;
  return `non-Error ${typeof error}`;
}

it('every public constructor and method x every kind of value: success or a TributaryError, no hang, no silent nonsense', { timeout: 600_000 }, async () => {
  const random = seeded('fuzz public surface');
  const cases: { target: Target; position: number; kind: Kind }[] = [];
  for (const target of TARGETS) {
    target.params.forEach((param, position) => {
      for (const kind of [...KINDS, ...(param.extra?.() ?? [])]) cases.push({ target, position, kind });
    });
  }
  // Seeded shuffle: state left behind by one call must not decide another's outcome unseen.
  for (let i = cases.length - 1; i > 0; i--) {
    const j = random.below(i + 1);
    [cases[i], cases[j]] = [cases[j]!, cases[i]!];
  }
  const findings: string[] = [];
  const skipped: string[] = [];
  for (const { target, position, kind } of cases) {
    const param = target.params[position]!;
    const key = `${target.name} ${param.name}=${kind.label}`;
    const args = target.params.map((p) => p.valid());
    args[position] = kind.make();
    const sensible = kind.neutral === true || param.accepts(args[position]);
    const outcome = await attempt(() => target.call(...args));
    const closing = closers;
    closers = [];
    await Promise.all(closing.map((close) => attempt(close)));
    let finding: string | undefined;
    if (outcome.kind === 'raw') finding = `raw ${describeError(outcome.error)}`;
    else if (outcome.kind === 'hang') finding = `no answer within ${CALL_MS} ms`;
    else if (outcome.kind === 'ok' && !sensible) finding = 'accepted silently';
    if (finding === undefined) continue;
    if (KNOWN[key] !== undefined) skipped.push(`${key}: ${finding} (known: ${KNOWN[key]})`);
    else findings.push(`${key}: ${finding}`);
  }
  if (skipped.length > 0) console.log(`known findings left for a redesign:\n  ${skipped.join('\n  ')}`);
  if (findings.length > 0) console.log(`findings (seed ${random.seed}):\n  ${findings.sort().join('\n  ')}`);
  expect(findings, `seed ${random.seed}: ${findings.length} of ${cases.length} calls`).toEqual([]);
});

// What a stream returns or throws crosses back from its worker: whole, or as a typed error.
const RESULT_KNOWN: Readonly<Record<string, string>> = {};

it('values a stream returns or throws come back whole, or as a typed error that says what happened', { timeout: 120_000 }, async () => {
  const findings: string[] = [];
  const skipped: string[] = [];
  const expectations: Record<string, (r: { status: string; value?: unknown; error?: Record<string, unknown> }) => boolean> = {
    function: (r) => r.status === 'failed' && String(r.error?.code).startsWith('ERR_TRIBUTARY_'),
    symbol: (r) => r.status === 'failed' && String(r.error?.code).startsWith('ERR_TRIBUTARY_'),
    cyclic: (r) => r.status === 'complete' && (r.value as { self: unknown }).self === r.value,
    bigint: (r) => r.status === 'complete' && r.value === 10n,
    'throw object': (r) => r.status === 'failed' && String(r.error?.message).includes('not'),
    'throw error with properties': (r) => r.status === 'failed' && r.error?.code === 'E_FUZZ' && (r.error?.properties as { detail?: unknown } | undefined)?.detail === 42,
  };
  for (const [which, holds] of Object.entries(expectations)) {
    const run = coordinator.executeParallel([{ id: 'ret', task: streamModule('fuzz-return.mjs'), input: which }]);
    const outcome = await Promise.race([run, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000).unref())]);
    const result = outcome?.[0] as Parameters<(typeof expectations)[string]>[0] | undefined;
    const finding = result === undefined ? 'no result within 10 s' : holds(result) ? undefined : `came back as ${result.status}: ${String(result.error?.message ?? typeof result.value)}`;
    if (finding === undefined) continue;
    if (RESULT_KNOWN[which] !== undefined) skipped.push(`${which}: ${finding} (known: ${RESULT_KNOWN[which]})`);
    else findings.push(`${which}: ${finding}`);
  }
  if (skipped.length > 0) console.log(`known findings left for the streams refactor:\n  ${skipped.join('\n  ')}`);
  expect(findings).toEqual([]);
});
