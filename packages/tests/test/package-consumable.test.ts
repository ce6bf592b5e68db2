import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { fixture } from './helpers.js';

const run = promisify(execFile);

it('the built package loads in a plain node process and its worker thread, without tsx', async () => {
  // A child process with no loader flags: only the compiled ESM and .d.ts are used.
  const { stdout } = await run(process.execPath, [fixture('plain-consumer.mjs').pathname], { timeout: 20_000, env: { PATH: process.env.PATH } });
  expect(JSON.parse(stdout)).toEqual({ lockedInWorker: true, freeAfter: true });
});
