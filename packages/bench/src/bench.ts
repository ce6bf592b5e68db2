/**
 * `pnpm bench`: runs the benchmark suites and prints each Tributary figure beside its raw
 * baseline from the same run (median of --runs runs).
 *
 *   pnpm bench [--filter primitives,streams] [--runs 3] [--time 300] [--json FILE] [--trace FILE]
 *
 * `--trace FILE` records a Chrome trace of a demonstration run instead of running the suites
 * (add `--filter` to run suites as well).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { comparisonTable, positiveOption, selectSuites } from './cli.js';
import { runSuites } from './runner.js';
import { writeTrace } from './trace.js';

const { values } = parseArgs({
  options: {
    filter: { type: 'string' },
    runs: { type: 'string' },
    time: { type: 'string' },
    json: { type: 'string' },
    trace: { type: 'string' },
  },
});

if (values.trace !== undefined) {
  const events = await writeTrace(values.trace);
  console.log(`wrote ${values.trace}: ${events} trace events (open it in Perfetto or chrome://tracing)`);
}
if (values.trace !== undefined && values.filter === undefined) process.exit(0);

const results = await runSuites(selectSuites(values.filter), {
  runs: positiveOption('runs', values.runs, 3),
  timeMs: positiveOption('time', values.time, 300),
});
console.log(comparisonTable(results));
if (values.json !== undefined) {
  await writeFile(values.json, `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`);
  console.log(`\nwrote ${values.json}`);
}
