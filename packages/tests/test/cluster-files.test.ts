// The seed's scenarios 2 (race-free file writes) and 6 (per-stream directories) on the cluster:
// ctx.fileLocks and ctx.directory across three tributary-node processes sharing a directory
// (--shared-root; on one host it stands in for a network file system), a real redis-server.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClusterCoordinator, type ClusterCoordinatorOptions } from '@tributary/runtime/cluster';
import { StreamCoordinator } from '@tributary/runtime';
import { describeWithRedis } from './redis-harness.js';
import { clusterStream, startNode, STREAMS_ROOT, useCluster } from './cluster-nodes.js';

describeWithRedis('cluster: file locks and stream directories across three nodes', () => {
  let shared: string;
  // Registered first: made before the nodes start, removed after they stop.
  beforeAll(() => void (shared = mkdtempSync(join(tmpdir(), 'tributary-shared-'))));
  afterAll(() => rmSync(shared, { recursive: true, force: true }));
  const cluster = useCluster({ name: 'files', nodes: 3, nodeArgs: () => ['--shared-root', shared], coordinator: () => ({ sharedRoot: shared }) });
  const { nodes } = cluster;
  const coordinator = (options: Partial<ClusterCoordinatorOptions> = {}): ClusterCoordinator => cluster.coordinator(options);

  it('scenario 2: six streams on three nodes rewrite one file under ctx.fileLocks: every line kept, none torn', async () => {
    const file = join(shared, 'test.txt');
    writeFileSync(file, '');
    const results = await coordinator().executeParallel(
      Array.from({ length: 6 }, (_, i) => ({ id: `w${i}`, task: clusterStream('locked-append.mjs'), input: { file, times: 10 } })),
      { timeoutMs: 60_000 },
    );
    expect(results.map((r) => r.status)).toEqual(Array(6).fill('complete'));
    const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
    // Exact total, and each line whole: a lost update drops lines, a torn write mangles them.
    expect(lines).toHaveLength(60);
    expect(lines.every((l) => /^Stream w\d \d$/.test(l))).toBe(true);
    expect(new Set(lines).size).toBe(60);
    // Each stream's lines are in its own order (each write saw the one before it).
    for (let s = 0; s < 6; s++) expect(lines.filter((l) => l.startsWith(`Stream w${s} `))).toEqual(Array.from({ length: 10 }, (_, i) => `Stream w${s} ${i}`));
    // The streams ran on more than one node.
    expect(nodes.filter((n) => n.events.some((e) => e.event === 'start' && String(e.stream).startsWith('w'))).length).toBeGreaterThan(1);
  });

  it('the same typed errors as in-process: ConflictError while the coordinator holds the file, FileSystemError, InvalidArgumentError', async () => {
    const c = coordinator({ fileLocks: { timeoutMs: 5_000 } });
    await c.connect();
    const held = join(shared, 'held.txt');
    writeFileSync(held, 'x');
    const lock = await c.fileLocks.acquireFileLock(held, 'write');
    try {
      const [result] = await c.executeParallel(
        [{ id: 'errors', task: clusterStream('file-errors.mjs'), input: { held, notADirectory: join(held, 'inside'), missingDirectory: join(shared, 'no', 'such', 'file') } }],
        { timeoutMs: 20_000 },
      );
      expect(result!.value).toEqual({
        held: { name: 'ConflictError', code: 'ERR_TRIBUTARY_CONFLICT', typed: true },
        notADirectory: { name: 'FileSystemError', code: 'ERR_TRIBUTARY_FILE_SYSTEM', errno: 'ENOTDIR', typed: true },
        missingDirectory: { name: 'InvalidArgumentError', code: 'ERR_TRIBUTARY_INVALID_ARGUMENT', typed: true },
      });
    } finally {
      await lock.release();
    }
    // Keyed relative to the shared root, so hosts that mount it elsewhere lock the same file.
    expect(lock.path).toBe('shared:held.txt');
  });

  it('scenario 6: each stream writes in its own directory on the shared root; the merge equals the in-process one', async () => {
    const ids = ['stream1', 'stream2', 'stream3'];
    const specs = ids.map((id) => ({ id, task: clusterStream('write-output.mjs') }));
    const c = coordinator({ isolation: true });
    const results = await c.executeParallel(specs, { timeoutMs: 30_000 });
    expect(results.map((r) => r.status)).toEqual(['complete', 'complete', 'complete']);
    const dirs = results.map((r) => (r.value as { directory: string }).directory);
    expect(new Set(dirs).size).toBe(3);
    expect(dirs.every((d) => d.startsWith(join(shared, 'streams')) && existsSync(d))).toBe(true);
    expect(results.map((r) => (r.value as { output: string }).output)).toEqual(ids.map((id) => `Stream ${id} output`));
    expect(ids.map((id) => c.isolation!.directoryOf(id))).toEqual(dirs);

    // The same module, ids and merges in one process.
    const local = new StreamCoordinator({ maxThreads: 2, isolation: true });
    const into = { cluster: mkdtempSync(join(tmpdir(), 'tributary-merge-c-')), local: mkdtempSync(join(tmpdir(), 'tributary-merge-l-')) };
    try {
      const localResults = await local.executeParallel(specs);
      expect(localResults.map((r) => r.status)).toEqual(['complete', 'complete', 'complete']);
      type Entries = readonly { streamId: string; files: readonly string[]; conflicts: readonly string[]; renamed: ReadonlyMap<string, string> }[];
      const strip = (entries: Entries): unknown =>
        entries.map((e) => ({ streamId: e.streamId, files: e.files, conflicts: e.conflicts, renamed: [...e.renamed] }));
      const clusterMerge = await c.isolation!.mergeStreamOutputs({ onConflict: 'rename', into: into.cluster });
      const localMerge = await local.isolation!.mergeStreamOutputs({ onConflict: 'rename', into: into.local });
      expect(clusterMerge).toHaveLength(3);
      expect(strip(clusterMerge)).toEqual(strip(localMerge));
      expect(tree(into.cluster)).toEqual(tree(into.local));
      expect(tree(into.cluster)).toMatchObject({ 'output.stream1.txt': 'Stream stream1 output', 'common/same.txt': 'same for all' });
      // Under the default policy both refuse the same conflict, the same way.
      const refusal = (p: Promise<unknown>): Promise<unknown> => p.then(() => 'merged', (e: { name: string; conflicts: unknown }) => ({ name: e.name, conflicts: e.conflicts }));
      expect(await refusal(c.isolation!.mergeStreamOutputs({ into: into.cluster }))).toEqual(await refusal(local.isolation!.mergeStreamOutputs({ into: into.local })));
    } finally {
      await local.close();
      rmSync(into.cluster, { recursive: true, force: true });
      rmSync(into.local, { recursive: true, force: true });
      c.isolation!.cleanup();
    }
    expect(dirs.some((d) => existsSync(d))).toBe(false);
  });

  it('a node started without --shared-root fails a stream that needs a directory, saying how to start it', async () => {
    const bare = await startNode(['--connection', cluster.server.socket, '--name', 'files-bare', '--threads', '1', '--allow', STREAMS_ROOT]);
    nodes.push(bare);
    const [result] = await coordinator({ name: 'files-bare', isolation: true }).executeParallel([{ id: 'lost', task: clusterStream('write-output.mjs') }], { timeoutMs: 20_000 });
    expect(result).toMatchObject({ status: 'failed', error: { name: 'InvalidStateError', code: 'ERR_TRIBUTARY_INVALID_STATE' } });
    expect(result!.error!.message).toMatch(/--shared-root/);
  });
});

/** Every file under `root`, relative path -> content. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    out[relative(root, full).split('\\').join('/')] = readFileSync(full, 'utf8');
  }
  return out;
}
