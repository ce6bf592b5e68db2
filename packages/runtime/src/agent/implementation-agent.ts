/**
 * ImplementationAgent: the one-call facade. It runs a task as N coordinated streams on worker
 * threads — each in its own workspace directory, sharing versioned state, supervised by
 * heartbeats — merges their outputs into one tree, and reports how it went.
 *
 * @example
 * ```ts
 * const agent = new ImplementationAgent();
 * agent.configureCoordination({ convergenceType: 'progressive', isolation: 'workspace',
 *   stateManagement: 'immutable', protocols: ['heartbeat', 'registration'] });
 * const result = await agent.executeTask({ type: 'implement_feature', parallelStreams: 4 });
 * // { status: 'success', streamsCompleted: 4, conflicts: 0, recoveryAttempts: 0, ... }
 * await agent.close();
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '../shared/errors.js';
import { integerIn, nonEmptyString, oneOf, optionsObject, positiveFinite, positiveInteger, show } from '../shared/validate.js';
import type { MergeEntry } from '../fs/directory-isolation.js';
import { StreamCoordinator } from '../streams/coordinator.js';
import type { ConvergenceType, StreamResult, StreamSpec } from '../streams/types.js';
import { convergenceType } from '../streams/validate.js';

/** A kind of task the agent can run. */
export interface TaskType {
  /** Stream module path or URL, as in a StreamSpec. Required: no default. */
  readonly task: string | URL;
  /** Named export to call. Default: the module's default export. */
  readonly export?: string;
  /** The input of each of `parallelStreams` streams. Default: `{ ...input, part: i, parts: n }`. */
  readonly split?: (input: Record<string, unknown>, parallelStreams: number) => unknown[];
}

/** Isolation modes: `workspace` gives each stream a directory and merges them. */
export type IsolationMode = 'workspace' | 'none';
/** State modes: `immutable` is the versioned shared state. */
export type StateManagement = 'immutable' | 'none';
/** Protocols the agent can switch on. */
export type AgentProtocol = 'heartbeat' | 'registration';

/**
 * What `configureCoordination` takes. A field left out keeps its current value; the defaults
 * below are the values before any call.
 */
export interface CoordinationConfig {
  /** How each task's streams converge. Default `'barrier'`. */
  readonly convergenceType?: ConvergenceType;
  /** `'workspace'`: a directory per stream, merged at the end. Default `'workspace'`. */
  readonly isolation?: IsolationMode;
  /** `'immutable'`: streams record their parts in the versioned shared state. Default `'immutable'`. */
  readonly stateManagement?: StateManagement;
  /** Protocols switched on; `'heartbeat'` supervises stuck streams. Default `['registration']`. */
  readonly protocols?: readonly AgentProtocol[];
  /** With the heartbeat protocol: how long a stream may stay silent, ms. Default 5,000. */
  readonly heartbeatTimeoutMs?: number;
}

/** What `executeTask` takes. */
export interface TaskRequest {
  /** A registered task type (`implement_feature` is built in). Required: no default. */
  readonly type: string;
  /** How many streams run the task, 1 to 10,000. Required: no default. */
  readonly parallelStreams: number;
  /**
   * Handed to the task type's `split`. Default `{}`; the agent adds `feature`
   * (`'feature-<n>'`, n counting tasks) and `recordState` (true with `stateManagement:
   * 'immutable'`) unless given.
   */
  readonly input?: Record<string, unknown>;
}

/** How a task went. */
export interface TaskOutcome {
  /** `success` when every stream completed and the merge found no conflict. */
  readonly status: 'success' | 'failure';
  /** Why it failed, when it did. */
  readonly reason?: string;
  readonly streamsCompleted: number;
  /** Merge conflicts plus file-lock conflicts reported by streams. */
  readonly conflicts: number;
  /** Guardian restarts of stuck streams. */
  readonly recoveryAttempts: number;
  readonly durationMs: number;
  readonly streams: readonly StreamResult[];
  /** The merge, per stream (with `isolation: 'workspace'`). */
  readonly merged: readonly MergeEntry[];
  /** Where the merged tree was written (with `isolation: 'workspace'`). */
  readonly outputDirectory: string | undefined;
}

/** Options of an {@link ImplementationAgent}. */
export interface AgentOptions {
  /** Worker threads, at most 1,024. Default: the machine's available parallelism. */
  readonly maxThreads?: number;
  /** Where workspaces and merged outputs go. Default: a fresh directory under the OS temp dir. */
  readonly root?: string;
  /** Check interval of the heartbeat monitor, ms. Default: a quarter of the timeout, at most 1000. */
  readonly heartbeatCheckIntervalMs?: number;
}

const ISOLATION: readonly IsolationMode[] = ['workspace', 'none'];
const STATE: readonly StateManagement[] = ['immutable', 'none'];
const PROTOCOLS: readonly AgentProtocol[] = ['heartbeat', 'registration'];

const BUILT_IN: Record<string, TaskType> = {
  implement_feature: { task: new URL('./implement-feature.js', import.meta.url) },
};

/** Runs tasks as N coordinated streams. See the module documentation. */
export class ImplementationAgent {
  readonly #options: AgentOptions;
  readonly #types = new Map<string, TaskType>(Object.entries(BUILT_IN));
  readonly #root: string;
  readonly #ownsRoot: boolean;
  #config: Required<CoordinationConfig> = {
    convergenceType: 'barrier',
    isolation: 'workspace',
    stateManagement: 'immutable',
    protocols: ['registration'],
    heartbeatTimeoutMs: 5_000,
  };
  #runs = 0;
  /** Coordinators of tasks in progress, so close() can stop them. */
  readonly #active = new Set<StreamCoordinator>();

  constructor(options?: AgentOptions) {
    const o = optionsObject('options', options);
    if (o.maxThreads !== undefined) positiveInteger('options.maxThreads', o.maxThreads, 1024);
    if (o.heartbeatCheckIntervalMs !== undefined) positiveFinite('options.heartbeatCheckIntervalMs', o.heartbeatCheckIntervalMs);
    this.#options = o;
    this.#ownsRoot = o.root === undefined;
    this.#root = o.root === undefined ? mkdtempSync(join(tmpdir(), 'tributary-agent-')) : resolve(nonEmptyString('options.root', o.root));
  }

  /** Sets how later tasks are coordinated. Every field is checked; unknown values are errors. */
  configureCoordination(config: CoordinationConfig): void {
    const c = optionsObject('config', config);
    const next = { ...this.#config };
    if (c.convergenceType !== undefined) next.convergenceType = convergenceType('config.convergenceType', c.convergenceType);
    if (c.isolation !== undefined) next.isolation = oneOf('config.isolation', c.isolation, ISOLATION);
    if (c.stateManagement !== undefined) next.stateManagement = oneOf('config.stateManagement', c.stateManagement, STATE);
    if (c.protocols !== undefined) {
      if (!Array.isArray(c.protocols)) throw new InvalidArgumentError(`config.protocols must be an array of ${PROTOCOLS.join(', ')}`);
      next.protocols = c.protocols.map((p, i) => oneOf(`config.protocols[${i}]`, p, PROTOCOLS));
    }
    if (c.heartbeatTimeoutMs !== undefined) next.heartbeatTimeoutMs = positiveFinite('config.heartbeatTimeoutMs', c.heartbeatTimeoutMs);
    this.#config = next;
  }

  /** Adds (or replaces) a task type. */
  registerTaskType(name: string, type: TaskType): void {
    nonEmptyString('name', name);
    if (typeof type !== 'object' || type === null || (typeof type.task !== 'string' && !(type.task instanceof URL))) {
      throw new InvalidArgumentError('type.task must be a stream module path or URL');
    }
    if (type.split !== undefined && typeof type.split !== 'function') throw new InvalidArgumentError('type.split must be a function');
    this.#types.set(name, type);
  }

  /** Runs `request.type` as `request.parallelStreams` coordinated streams and merges their outputs. */
  async executeTask(request: TaskRequest): Promise<TaskOutcome> {
    const r = optionsObject('request', request);
    const typeName = nonEmptyString('request.type', r.type);
    const type = this.#types.get(typeName);
    if (type === undefined) {
      throw new InvalidArgumentError(`unknown task type ${show(typeName)}; known: ${[...this.#types.keys()].join(', ')} (add one with registerTaskType)`);
    }
    const n = integerIn('request.parallelStreams', r.parallelStreams, 1, 10_000);
    const input = { feature: `feature-${this.#runs + 1}`, recordState: this.#config.stateManagement === 'immutable', ...(r.input ?? {}) };
    const inputs = type.split?.(input, n) ?? Array.from({ length: n }, (_, part) => ({ ...input, part, parts: n }));
    if (!Array.isArray(inputs) || inputs.length !== n) throw new InvalidArgumentError(`split must return ${n} inputs, one per stream`);
    const run = ++this.#runs;
    // A coordinator per task: its workspaces, registry and merge cover this task's streams only.
    const coordinator = this.#coordinatorFor(run);
    this.#active.add(coordinator);
    try {
      return await this.#execute(coordinator, run, typeName, type, inputs);
    } finally {
      this.#active.delete(coordinator);
      await coordinator.close();
    }
  }

  async #execute(coordinator: StreamCoordinator, run: number, typeName: string, type: TaskType, inputs: unknown[]): Promise<TaskOutcome> {
    const n = inputs.length;
    const specs: StreamSpec[] = inputs.map((streamInput, i) => ({
      id: `${typeName}-${run}-${i}`,
      task: type.task,
      ...(type.export === undefined ? {} : { export: type.export }),
      input: streamInput,
    }));
    const started = Date.now();
    const streams = await coordinator.executeParallel(specs, { convergenceType: this.#config.convergenceType });
    let merged: MergeEntry[] = [];
    let outputDirectory: string | undefined;
    if (coordinator.isolation !== undefined) {
      outputDirectory = join(this.#root, `output-${run}`);
      // Conflicting files are all kept (renamed by stream) and counted, never hidden.
      merged = await coordinator.isolation.mergeStreamOutputs({ into: outputDirectory, onConflict: 'rename' });
    }
    const mergeConflicts = new Set(merged.flatMap((m) => m.conflicts)).size;
    const lockConflicts = streams.filter((s) => s.error?.name === 'ConflictError').length;
    const streamsCompleted = streams.filter((s) => s.status === 'complete').length;
    const conflicts = mergeConflicts + lockConflicts;
    const reason =
      streamsCompleted < n ? `${n - streamsCompleted} of ${n} streams did not complete` : conflicts > 0 ? `${conflicts} conflict(s) in the merged output` : undefined;
    return {
      status: reason === undefined ? 'success' : 'failure',
      ...(reason === undefined ? {} : { reason }),
      streamsCompleted,
      conflicts,
      recoveryAttempts: coordinator.lastRunStats.recoveryAttempts,
      durationMs: Date.now() - started,
      streams,
      merged,
      outputDirectory,
    };
  }

  /** Stops the worker threads and removes the agent's own temporary directory. */
  async close(): Promise<void> {
    await Promise.all([...this.#active].map((c) => c.close()));
    if (this.#ownsRoot) rmSync(this.#root, { recursive: true, force: true });
  }

  #coordinatorFor(run: number): StreamCoordinator {
    const config = this.#config;
    const heartbeat = config.protocols.includes('heartbeat');
    return new StreamCoordinator({
      ...(this.#options.maxThreads === undefined ? {} : { maxThreads: this.#options.maxThreads }),
      ...(heartbeat ? { heartbeatTimeoutMs: config.heartbeatTimeoutMs } : {}),
      ...(heartbeat && this.#options.heartbeatCheckIntervalMs !== undefined ? { heartbeatCheckIntervalMs: this.#options.heartbeatCheckIntervalMs } : {}),
      ...(config.isolation === 'workspace' ? { isolation: { root: join(this.#root, `workspaces-${run}`) } } : {}),
    });
  }
}
