/**
 * The built package as plain Node sees it (no tsx, no loader of ours beyond what a test says):
 * both entry points load in a child process and its worker threads, and the './sync' entry
 * stands alone, without the worker pool (Piscina) or the services channel (Comlink).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers.js';

const run = promisify(execFile);
const env = { PATH: process.env.PATH };
/** Preloading this makes 'piscina' and 'comlink' unresolvable, in the process and its workers. */
const blockPoolDeps = ['--import', fixture('consumer/block-pool-deps.mjs').href];

it('the built package loads in a plain node process and its worker thread, without tsx', async () => {
  // A child process with no loader flags: only the compiled ESM and .d.ts are used.
  const { stdout } = await run(process.execPath, [fixture('plain-consumer.mjs').pathname], { timeout: 20_000, env });
  expect(JSON.parse(stdout)).toEqual({ lockedInWorker: true, freeAfter: true });
});

describe("the './sync' entry", () => {
  it('hands a Mutex from plain node to a worker thread, with Piscina and Comlink unresolvable', async () => {
    const { stdout } = await run(process.execPath, [...blockPoolDeps, fixture('consumer/sync-entry.mjs').pathname], { timeout: 20_000, env });
    // The worker saw the main thread's hold, then took the lock once it was let go.
    expect(JSON.parse(stdout)).toEqual({ workerSawHeld: true, workerLocked: true, freeAfter: true });
  });

  it('is what spares Piscina: the main entry under the same block fails on it', async () => {
    // The control for the test above: the block is in force, and the main entry needs the pool.
    const importMain = run(process.execPath, [...blockPoolDeps, '--input-type=module', '-e', "await import('@tributary/runtime')"], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      timeout: 20_000,
      env,
    });
    await expect(importMain).rejects.toMatchObject({ stderr: expect.stringMatching(/blocked: '(piscina|comlink)' was imported/) });
  });

  it('imports nothing outside the package but node: builtins, not even lazily', async () => {
    // Static walk of the compiled module graph from dist/sync/index.js: a dynamic
    // `import('piscina')` on a path the test above never takes still shows here.
    const entry = createRequire(import.meta.url).resolve('@tributary/runtime/sync');
    const seen = new Set<string>();
    const external = new Set<string>();
    const pending = [entry];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const source = await readFile(file, 'utf8');
      for (const [, specifier] of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)) {
        if (specifier!.startsWith('.')) pending.push(join(dirname(file), specifier!));
        else if (!isBuiltin(specifier!)) external.add(specifier!);
      }
    }
    expect(seen.size).toBeGreaterThan(5); // the walk followed the entry's relative imports
    expect([...external]).toEqual([]);
    // Nor anything of the streams layer, where the pool lives.
    expect([...seen].filter((f) => f.includes(join('dist', 'streams')))).toEqual([]);
  });
});
