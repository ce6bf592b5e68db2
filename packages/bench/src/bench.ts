/**
 * `pnpm bench`: the project's own benchmarks. The suites time Tributary's operations beside
 * raw baselines in the same run (median of --runs runs); the bench files under bench/ (and
 * any given as arguments) are workloads of the shipped API and go through the tributary-bench
 * CLI, exactly as a user's would.
 *
 *   pnpm bench [files...] [--filter primitives,cpu-bound] [--runs 3] [--time 300] [--json FILE] [--trace FILE]
 *
 * With files, only those run. `--trace FILE` records a Chrome trace of a demonstration run
 * instead (add `--filter` to run the benchmarks as well).
 */
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '@tributary/runtime';
import { comparisonTable, positiveOption } from './cli.js';
import { runSuites } from './runner.js';
import { suites } from './suites/index.js';
import { main as benchCli } from './tool/cli.js';
import { writeTrace } from './trace.js';

const USAGE = 'usage: pnpm bench [files...] [--filter WORDS] [--runs N] [--time MS] [--json FILE] [--trace FILE]';
const BENCH_DIR = fileURLToPath(new URL('../bench/', import.meta.url));

async function bench(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      filter: { type: 'string' },
      runs: { type: 'string' },
      time: { type: 'string' },
      json: { type: 'string' },
      trace: { type: 'string' },
    },
  });
  if (values.help) {
    console.log(`${USAGE}\nsuites: ${suites.map((s) => s.name).join(', ')}; bench files: ${ownBenchFiles().join(', ')}`);
    return 0;
  }
  if (values.trace !== undefined) {
    const events = await writeTrace(values.trace);
    console.log(`wrote ${values.trace}: ${events} trace events (open it in Perfetto or chrome://tracing)`);
    if (values.filter === undefined) return 0;
  }
  const words = values.filter?.split(',').map((w) => w.trim()).filter(Boolean);
  const picked = positionals.length > 0 ? [] : suites.filter((s) => words === undefined || words.some((w) => s.name.includes(w)));
  const files = positionals.length > 0 ? positionals : ownBenchFiles().filter((f) => words === undefined || words.some((w) => f.includes(w)));
  if (picked.length === 0 && files.length === 0) {
    throw new InvalidArgumentError(`--filter ${values.filter} matches no suite and no bench file; suites: ${suites.map((s) => s.name).join(', ')}; bench files: ${ownBenchFiles().join(', ')}`);
  }
  if (picked.length > 0) {
    const results = await runSuites(picked, { runs: positiveOption('runs', values.runs, 3), timeMs: positiveOption('time', values.time, 300) });
    console.log(comparisonTable(results));
    if (values.json !== undefined) {
      await writeFile(values.json, `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`);
      console.log(`\nwrote ${values.json}`);
    }
  }
  if (files.length === 0) return 0;
  console.log();
  const paths = positionals.length > 0 ? files : files.map((f) => `${BENCH_DIR}${f}`);
  return benchCli(['run', ...paths, ...(picked.length === 0 && values.json !== undefined ? ['--json', values.json] : [])]);
}

/** The project's bench files (bench/*.bench.mjs). */
function ownBenchFiles(): string[] {
  return readdirSync(BENCH_DIR).filter((f) => f.endsWith('.bench.mjs')).sort();
}

try {
  process.exitCode = await bench(process.argv.slice(2));
} catch (error) {
  // Usage mistakes: one line and the usage, never a stack trace.
  const e = error as Error & { code?: string };
  if (!(error instanceof InvalidArgumentError) && !e.code?.startsWith('ERR_PARSE_ARGS')) throw error;
  console.error(`error: ${e.message}\n${USAGE}`);
  process.exitCode = 2;
}
