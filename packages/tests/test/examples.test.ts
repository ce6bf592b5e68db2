// Every example in packages/runtime/examples runs with one plain `node` command and says what it promises.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const example = (name: string): string => new URL(`../../runtime/examples/${name}.mjs`, import.meta.url).pathname;

it.each([
  ['parallel-cpu', /148933 primes below 2,000,000/],
  ['barrier-mid-task', /s3: complete, sum 60/],
  ['checkpoints', /checkpoint 3: stream0/],
  ['recovery', /hangs-once: complete after 2 attempt\(s\)[\s\S]*throws: failed after 1 attempt/],
  ['two-processes', /150 lines written by 3 processes/],
])('example %s', async (name, expected) => {
  const { stdout } = await run(process.execPath, [example(name)], { timeout: 60_000 });
  expect(stdout).toMatch(expected);
});
