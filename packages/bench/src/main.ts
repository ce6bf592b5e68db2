/**
 * `pnpm start` (also `tributary-bench validate`): the validation report, the project's main
 * job. Runs every coordination mechanism of the spec live on worker threads, the performance
 * validation, and the agent integration, then prints the spec's tables filled with what was
 * measured. Exits 1 if any row fails; an INCONCLUSIVE performance row (this machine cannot
 * reach the seed's bar, or is too noisy to tell) is not a failure. The last line names the
 * rows that failed.
 *
 *   pnpm start [--json]
 */
import { parseArgs } from 'node:util';
import { createProgress } from './progress.js';
import { num, pct, table, wrap, MAX_TABLE_WIDTH } from './report.js';
import { agentCheck } from './validation/agent.js';
import { mechanismChecks, type Check } from './validation/checks.js';
import { measurePerformance, SPEC, type PerformanceReport } from './validation/performance.js';

interface Row {
  readonly mechanism: string;
  readonly scenario: string;
  readonly passed: boolean;
  readonly figure: string;
}

/** Runs the validation report; resolves to the process exit code. */
export async function validate(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { json: { type: 'boolean', default: false } } });
  const progress = createProgress('validating', mechanismChecks.length + 2);
  const rows: Row[] = [];
  for (const check of mechanismChecks) {
    progress.update(check.mechanism);
    rows.push(await runCheck(check));
    progress.increment();
  }
  let performance: PerformanceReport | undefined;
  let performanceError: string | undefined;
  try {
    performance = await measurePerformance(50, 11, (step) => progress.update(`performance, ${step}`));
  } catch (error) {
    performanceError = (error as Error).message;
  }
  progress.increment();
  progress.update(agentCheck.mechanism);
  const agent = await runCheck(agentCheck);
  progress.increment();
  progress.stop();

  const performanceResult = performance?.verdict.result ?? 'FAIL';
  const failed = [...rows, agent].filter((r) => !r.passed).map((r) => r.mechanism);
  if (performanceResult === 'FAIL') failed.push('Performance');
  const passed = failed.length === 0;

  if (values.json) {
    console.log(JSON.stringify({ passed, failed, mechanisms: rows, performance: performance ?? { error: performanceError }, agent }, null, 2));
    return passed ? 0 : 1;
  }
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  console.log('## Validation Summary (live, on worker threads)\n');
  console.log(table(['Mechanism', 'Test Scenario', 'Result', 'Measured'], rows.map((r) => [r.mechanism, r.scenario, verdict(r.passed), r.figure])));
  console.log('\n## Performance Validation\n');
  if (performance === undefined) console.log(`FAIL: ${performanceError}`);
  else printPerformance(performance);
  console.log('\n## Integration Validation\n');
  console.log(table(['Test', 'Scenario', 'Result', 'Measured'], [[agent.mechanism, agent.scenario, verdict(agent.passed), agent.figure]]));
  const inconclusive = performanceResult === 'INCONCLUSIVE' ? ' (performance INCONCLUSIVE on this machine)' : '';
  console.log(`\n${passed ? `All coordination mechanisms validated${inconclusive}.` : `Validation FAILED: ${failed.join(', ')}.`}`);
  return passed ? 0 : 1;
}

async function runCheck(check: Check): Promise<Row> {
  try {
    return { mechanism: check.mechanism, scenario: check.scenario, passed: true, figure: await check.run() };
  } catch (error) {
    return { mechanism: check.mechanism, scenario: check.scenario, passed: false, figure: `FAILED: ${(error as Error).message}` };
  }
}

function printPerformance(p: PerformanceReport): void {
  const say = (text: string): void => console.log(wrap(text, MAX_TABLE_WIDTH).join('\n'));
  say(
    `${p.streams} streams x ~${p.taskMs} ms of fixed CPU work on ${p.threads} threads; ${p.rounds} rounds in rotated order ` +
      `after a warm-up; medians of the rounds. Seed: overhead = (parallel - sequential/${p.threads}) / parallel < ` +
      `${pct(SPEC.maxOverhead)}, speedup > ${SPEC.minSpeedup}x.\n`,
  );
  console.log(
    table(
      ['Runner', 'Wall ms [95% CI]', 'Speedup', 'Seed overhead', 'Meets seed bar'],
      p.runners.map((r) => [
        r.runner,
        `${num(r.wallMs.median)} [${num(r.wallMs.low)}, ${num(r.wallMs.high)}]`,
        `${r.speedup.toFixed(2)}x`,
        r.runner === 'sequential' ? '' : pct(r.overhead),
        r.runner === 'sequential' ? '' : r.overhead < SPEC.maxOverhead && r.speedup > SPEC.minSpeedup ? 'yes' : 'no',
      ]),
    ),
  );
  const e = p.excessOverhead;
  console.log();
  say(
    `Tributary over raw Piscina, same rounds: wall ${p.vsPiscina.toFixed(3)}x, overhead +${(e.median * 100).toFixed(1)} points ` +
      `[95% CI ${(e.low * 100).toFixed(1)}, ${(e.high * 100).toFixed(1)}], Mann-Whitney p = ${p.p.toFixed(3)}.`,
  );
  say(`Result: ${p.verdict.result}: ${p.verdict.reason}.`);
}

// Run directly (`pnpm start`), not when the CLI imports it.
if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await validate(process.argv.slice(2));
