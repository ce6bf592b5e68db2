// Two OS processes (and this one) append to one file through FileLockManager: no line is lost.
//   node packages/runtime/examples/two-processes.mjs
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileLockManager } from '@tributary/runtime';

async function appendLines(file, who, lines) {
  const locks = new FileLockManager();
  for (let i = 0; i < lines; i++) {
    const lock = await locks.acquireFileLock(file, 'write');
    try {
      // Read-modify-write: without the lock, concurrent writers would lose each other's lines.
      await writeFile(file, `${await readFile(file, 'utf8').catch(() => '')}${who} line ${i}\n`);
    } finally {
      await lock.release();
    }
  }
  await locks.close();
}

const [, , file, who] = process.argv;
if (file !== undefined) {
  await appendLines(file, who, 50);
} else {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-example-'));
  const shared = join(dir, 'shared.txt');
  const children = ['child-a', 'child-b'].map((name) => spawn(process.execPath, [fileURLToPath(import.meta.url), shared, name], { stdio: 'inherit' }));
  await Promise.all([appendLines(shared, 'parent', 50), ...children.map((c) => new Promise((r) => c.once('exit', r)))]);
  const lines = (await readFile(shared, 'utf8')).trim().split('\n');
  console.log(`${lines.length} lines written by 3 processes (expected 150)`);
  await rm(dir, { recursive: true, force: true });
}
