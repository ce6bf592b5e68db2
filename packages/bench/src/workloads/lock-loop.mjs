// A stream that takes and releases a lock `n` times and reports ns per acquire+release:
// `ctx.fileLocks` on `file` when given, else the Mutex behind `mutex`.
import { Mutex } from '@tributary/runtime';

export default async function lockLoop({ n, file, mutex }, ctx) {
  const lock = mutex === undefined ? undefined : Mutex.from(mutex);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    if (lock !== undefined) lock.lock().unlock();
    else await (await ctx.fileLocks.acquireFileLock(file, 'write')).release();
  }
  return Number(process.hrtime.bigint() - start) / n;
}
