// Race-prevention workload: under ctx.fileLocks, read the whole shared file, add this
// stream's line, write it all back. Any lost update would show as a missing line.
import { readFile, writeFile } from 'node:fs/promises';

export default async function appendLine({ file }, ctx) {
  const lock = await ctx.fileLocks.acquireFileLock(file, 'write', { timeoutMs: 20_000 });
  try {
    const before = await readFile(file, 'utf8').catch(() => '');
    await writeFile(file, before + `Stream ${ctx.id}\n`);
  } finally {
    await lock.release();
  }
}
