/**
 * `pnpm bench:check`: the performance regression gate. Runs the suites behind every figure in
 * `baseline.json`, compares each same-run ratio (Tributary / its raw baseline) with the
 * baseline's, and exits 1 when one regressed past its tolerance in two measurements (a figure
 * past it is measured again, its suite only). Ratios, not absolute times:
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
const runs = positiveOption('runs', values.runs, 3);
const measure = async (names: ReadonlySet<string>): Promise<Map<string, Comparison>> => {
  const results = await runSuites(suites.filter((s) => names.has(s.name)), { runs, timeMs: 200 });
  return new Map(results.map((c) => [c.id, c]));
};
const byId = await measure(new Set(tracked.map((id) => baseline.figures[id]!.suite)));

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
  const limit = (id: string): number => baseline.figures[id]!.ratio * (1 + baseline.figures[id]!.tolerance);
  const past = (m: Map<string, Comparison>, id: string): boolean => (m.get(id)?.ratio ?? Infinity) > limit(id);
  // A figure past its limit is measured again (its suite only) and fails only if the second
  // measurement is past the limit too: a real regression shows twice, a noisy neighbour
  // rarely does.
  const doubtful = tracked.filter((id) => past(byId, id));
  const again = doubtful.length === 0 ? new Map<string, Comparison>() : await measure(new Set(doubtful.map((id) => baseline.figures[id]!.suite)));
  let regressions = 0;
  const rows = tracked.map((id) => {
    const now: Comparison | undefined = byId.get(id);
    const second = again.get(id);
    const verdict = now === undefined ? 'MISSING' : !past(byId, id) ? 'ok' : past(again, id) ? 'REGRESSED' : 'ok (2nd run)';
    if (!verdict.startsWith('ok')) regressions++;
    const figure = (c: Comparison | undefined): string => (c === undefined ? '-' : c.ratio.toFixed(2));
    return [id, baseline.figures[id]!.ratio.toFixed(2), second === undefined ? figure(now) : `${figure(now)}, ${figure(second)}`, `<= ${limit(id).toFixed(2)}`, verdict];
  });
  console.log(table(['figure (ratio to raw, lower is better)', 'baseline', 'now', 'limit', 'verdict'], rows));
  console.log(`\n${regressions === 0 ? 'bench:check passed' : `bench:check FAILED: ${regressions} figure(s) regressed`} (${tracked.length} figures, median of ${runs} runs)`);
  process.exitCode = regressions === 0 ? 0 : 1;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
