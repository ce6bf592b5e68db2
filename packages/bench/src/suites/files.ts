/**
 * Files suite: file locks beside the plain Mutex, uncontended on the main thread (thread-level
 * only, and with the cross-process lock file) and contended between 2 stream workers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLockManager, Mutex, StreamCoordinator } from '@tributary/runtime';
import { nsPerOp } from '../measure.js';
import { median } from '../stats/index.js';
import { compare, type Comparison, type Suite, type SuiteContext } from '../types.js';

const LOCK_LOOP = new URL('../workloads/lock-loop.mjs', import.meta.url).href;

async function uncontended(ctx: SuiteContext, file: string): Promise<Comparison[]> {
  ctx.progress('uncontended file locks');
  const threadOnly = new FileLockManager({ crossProcess: false });
  const crossProcess = new FileLockManager();
  const mutex = new Mutex();
  const BATCH = 50;
  try {
    const [thread, process, plain] = await nsPerOp(
      [
        { name: 'thread-level file lock', opsPerCall: BATCH, async: true, fn: async () => { for (let i = 0; i < BATCH; i++) await (await threadOnly.acquireFileLock(file)).release(); } },
        { name: 'cross-process file lock', opsPerCall: BATCH, async: true, fn: async () => { for (let i = 0; i < BATCH; i++) await (await crossProcess.acquireFileLock(file)).release(); } },
        { name: 'Mutex.lockAsync', opsPerCall: BATCH, async: true, fn: async () => { for (let i = 0; i < BATCH; i++) (await mutex.lockAsync()).unlock(); } },
      ],
      ctx.timeMs,
    );
    const base = { suite: 'files', unit: 'ns/op' as const, baseline: 'Mutex.lockAsync' };
    return [
      compare({ ...base, id: 'files.thread-lock', name: 'uncontended thread-level acquire+release', subject: 'FileLockManager' }, thread!, plain!),
      compare({ ...base, id: 'files.process-lock', name: 'uncontended cross-process acquire+release', subject: 'FileLockManager' }, process!, plain!),
    ];
  } finally {
    await Promise.all([threadOnly.close(), crossProcess.close()]);
  }
}

async function contended(ctx: SuiteContext, file: string): Promise<Comparison> {
  ctx.progress('file lock contended by 2 streams');
  const coordinator = new StreamCoordinator({ maxThreads: 2, fileLocks: { crossProcess: false } });
  const mutex = new Mutex();
  try {
    const fileNs: number[] = [];
    const mutexNs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const files = await coordinator.executeParallel([0, 1].map((k) => ({ id: `f${k}`, task: LOCK_LOOP, input: { n: 2_000, file } })));
      const mutexes = await coordinator.executeParallel([0, 1].map((k) => ({ id: `m${k}`, task: LOCK_LOOP, input: { n: 20_000, mutex: mutex.handle } })));
      fileNs.push(median(files.map((r) => r.value as number)));
      mutexNs.push(median(mutexes.map((r) => r.value as number)));
    }
    return compare(
      { suite: 'files', id: 'files.contended', name: 'thread-level file lock, 2 streams contending', subject: 'ctx.fileLocks', baseline: 'Mutex', unit: 'ns/op' },
      median(fileNs),
      median(mutexNs),
    );
  } finally {
    await coordinator.close();
  }
}

/** The files suite. */
export const files: Suite = {
  name: 'files',
  description: 'file locks (thread-level and cross-process) against the plain Mutex',
  async run(ctx) {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-'));
    try {
      const file = join(dir, 'locked.txt');
      return [...(await uncontended(ctx, file)), await contended(ctx, file)];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
