/** Test helpers for cluster runs: `tributary-node` child processes on a test's Redis, and a whole test cluster per describe block. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll } from 'vitest';
import { ClusterCoordinator, type ClusterCoordinatorOptions } from '@tributary/runtime/cluster';
import { fixture } from './helpers.js';
import { startRedis, type RedisServer } from './redis-harness.js';

/** The built bin (dist/cluster/bin.js, beside the ./cluster entry), as a package's user runs it. */
export const NODE_BIN = join(dirname(fileURLToPath(import.meta.resolve('@tributary/runtime/cluster'))), 'bin.js');

/** The allowed root of the cluster stream fixtures. */
export const STREAMS_ROOT = fixture('cluster/streams').pathname;

/** A cluster stream fixture's absolute path. */
export function clusterStream(name: string): string {
  return fixture(`cluster/streams/${name}`).pathname;
}

/** A running tributary-node child process and the JSON events it printed. */
export interface NodeProcess {
  readonly child: ChildProcess;
  readonly events: Record<string, unknown>[];
  /** Resolves with the first event matching `test`, failing after `timeoutMs`. */
  next(test: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Everything it wrote to stderr. */
  stderr(): string;
  /** Resolves with the exit code once it exited. */
  readonly exited: Promise<number | null>;
}

/** Starts a node; resolves once it printed `ready` (or rejects with its stderr if it exited). */
export async function startNode(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<NodeProcess> {
  const node = spawnNode(args, env);
  try {
    await Promise.race([node.next((e) => e.event === 'ready', 15_000), node.exited.then((code) => Promise.reject(new Error(`node exited (${code}): ${node.stderr()}`)))]);
  } catch (error) {
    // A node that never got ready is nobody's to kill later: do it here, or it outlives the test run.
    await kill9(node);
    throw error;
  }
  return node;
}

/** Spawns a node without waiting for it to be ready. */
export function spawnNode(args: readonly string[], env: NodeJS.ProcessEnv = {}): NodeProcess {
  const child = spawn(process.execPath, [NODE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const events: Record<string, unknown>[] = [];
  const waiters: { test: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    events.push(event);
    for (const w of [...waiters]) {
      if (w.test(event)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    events,
    exited,
    stderr: () => stderr,
    next(test, timeoutMs = 15_000) {
      const seen = events.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching node event within ${timeoutMs} ms; got ${JSON.stringify(events)}`)), timeoutMs);
        waiters.push({ test, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      });
    },
  };
}

/** Kills a node with SIGKILL (no clean-up at all) and waits for it to be gone. */
export async function kill9(node: NodeProcess): Promise<void> {
  if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
  await node.exited;
}

/** A test file's cluster: its Redis, its nodes, and a factory of coordinators of its queue. */
export interface TestCluster {
  /** The redis-server (set once beforeAll ran). */
  readonly server: RedisServer;
  /** The nodes started in beforeAll, and any the tests add (all killed in afterAll). */
  readonly nodes: NodeProcess[];
  /** A coordinator of the cluster's queue with `options` over the defaults; closed in afterAll. */
  coordinator(options?: Partial<ClusterCoordinatorOptions>): ClusterCoordinator;
}

/** Options of {@link useCluster}. */
export interface TestClusterOptions {
  /** The queue (`--name`, the coordinators' `name`). */
  readonly name: string;
  /** Nodes to start. */
  readonly nodes: number;
  /** Extra node arguments, read when the nodes start (after earlier beforeAll hooks). Default none. */
  readonly nodeArgs?: () => readonly string[];
  /** Coordinator options every coordinator starts from. Default none. */
  readonly coordinator?: () => Partial<ClusterCoordinatorOptions>;
}

/**
 * Registers beforeAll/afterAll hooks of a describe block that start a redis-server and
 * `nodes` nodes (2 threads each, the cluster fixtures allowed), and stop everything after:
 * coordinators closed, nodes killed, the server stopped. Hooks the file registers earlier run
 * before the start and after the stop.
 */
export function useCluster(options: TestClusterOptions): TestCluster {
  let server: RedisServer | undefined;
  const nodes: NodeProcess[] = [];
  const coordinators: ClusterCoordinator[] = [];
  beforeAll(async () => {
    server = await startRedis();
    for (let i = 0; i < options.nodes; i++) {
      nodes.push(await startNode(['--connection', server.socket, '--name', options.name, '--threads', '2', '--allow', STREAMS_ROOT, ...(options.nodeArgs?.() ?? [])]));
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all(coordinators.map((c) => c.close()));
    await Promise.all(nodes.map(kill9));
    await server?.stop();
  });
  return {
    get server() {
      if (server === undefined) throw new Error('the cluster starts in beforeAll; use it inside a test');
      return server;
    },
    nodes,
    coordinator(extra = {}) {
      const c = new ClusterCoordinator({ connection: this.server.socket, name: options.name, ...options.coordinator?.(), ...extra });
      coordinators.push(c);
      return c;
    },
  };
}
