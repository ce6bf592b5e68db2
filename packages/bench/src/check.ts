/**
 * `pnpm bench:check`: the performance regression gate. Runs the suites behind every figure in
 * `baseline.json`, compares each same-run ratio (Tributary / its raw baseline) with the
 * baseline's, and exits 1 when one regressed past its tolerance. Ratios, not absolute times:
 * a slower machine slows both sides, a real regression only one.
 *
 *   pnpm bench:check [--update] [--runs 3]
 *
 * `--update` rewrites baseline.json with this run's ratios, keeping each figure's tolerance.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { positiveOption } from './cli.js';
import { table } from './report.js';
import { runSuites } from './runner.js';
import { suites } from './suites/index.js';
import type { Comparison } from './types.js';

/** A tracked figure: its ratio when the baseline was taken and how much worse is tolerated. */
interface Tracked {
  readonly ratio: number;
  /** Allowed relative increase: 0.25 lets the ratio grow by 25%. */
  readonly tolerance: number;
  /** The suite that measures it. */
  readonly suite: string;
  readonly name?: string;
}

interface Baseline {
  readonly note: string;
  readonly updated: string;
  readonly figures: Record<string, Tracked>;
}

const BASELINE = new URL('../baseline.json', import.meta.url);
const { values } = parseArgs({ options: { update: { type: 'boolean', default: false }, runs: { type: 'string' } } });

const baseline = JSON.parse(await readFile(BASELINE, 'utf8')) as Baseline;
const tracked = Object.keys(baseline.figures);
const needed = suites.filter((s) => tracked.some((id) => baseline.figures[id]!.suite === s.name));
const results = await runSuites(needed, { runs: positiveOption('runs', values.runs, 3), timeMs: 200 });
const byId = new Map(results.map((c) => [c.id, c]));

if (values.update) {
  const figures: Record<string, Tracked> = {};
  for (const id of tracked) {
    const now = byId.get(id);
    if (now === undefined) throw new Error(`figure ${id} was not measured; remove it from baseline.json or fix its suite`);
    figures[id] = { ratio: round(now.ratio), tolerance: baseline.figures[id]!.tolerance, suite: now.suite, name: now.name };
  }
  await writeFile(BASELINE, `${JSON.stringify({ ...baseline, updated: new Date().toISOString(), figures }, null, 2)}\n`);
  console.log(`updated ${BASELINE.pathname} with ${tracked.length} figures`);
} else {
  let regressions = 0;
  const rows = tracked.map((id) => {
    const base = baseline.figures[id]!;
    const now: Comparison | undefined = byId.get(id);
    const limit = base.ratio * (1 + base.tolerance);
    const verdict = now === undefined ? 'MISSING' : now.ratio <= limit ? 'ok' : 'REGRESSED';
    if (verdict !== 'ok') regressions++;
    return [id, base.ratio.toFixed(2), now === undefined ? '-' : now.ratio.toFixed(2), `<= ${limit.toFixed(2)}`, verdict];
  });
  console.log(table(['figure (ratio to raw, lower is better)', 'baseline', 'now', 'limit', 'verdict'], rows));
  console.log(`\n${regressions === 0 ? 'bench:check passed' : `bench:check FAILED: ${regressions} figure(s) regressed`} (${tracked.length} figures, median of ${values.runs ?? 3} runs)`);
  process.exitCode = regressions === 0 ? 0 : 1;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
