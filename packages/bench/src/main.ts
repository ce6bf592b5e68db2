/**
 * `pnpm start`: the validation report, the project's main job. Runs every coordination
 * mechanism of the spec live on worker threads, the performance validation, and the agent
 * integration, then prints the spec's tables filled with what was measured. Exits 1 if any
 * row fails.
 *
 *   pnpm start [--json]
 */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { num, table } from './report.js';
import { agentCheck } from './validation/agent.js';
import { mechanismChecks, type Check } from './validation/checks.js';
import { meetsSpec, measurePerformance, SPEC, type PerformanceReport } from './validation/performance.js';

interface Row {
  readonly mechanism: string;
  readonly scenario: string;
  readonly passed: boolean;
  readonly figure: string;
}

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });

async function runCheck(check: Check): Promise<Row> {
  try {
    return { mechanism: check.mechanism, scenario: check.scenario, passed: true, figure: await check.run() };
  } catch (error) {
    return { mechanism: check.mechanism, scenario: check.scenario, passed: false, figure: `FAILED: ${(error as Error).message}` };
  }
}

const steps = mechanismChecks.length + 2;
const bar = new cliProgress.SingleBar(
  { format: 'validating {bar} {value}/{total} {step}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
  cliProgress.Presets.shades_classic,
);
bar.start(steps, 0, { step: '' });
const rows: Row[] = [];
for (const check of mechanismChecks) {
  bar.update({ step: check.mechanism });
  rows.push(await runCheck(check));
  bar.increment();
}
bar.update({ step: 'performance' });
let performance: PerformanceReport | undefined;
let performanceError: string | undefined;
try {
  performance = await measurePerformance();
} catch (error) {
  performanceError = (error as Error).message;
}
bar.increment();
bar.update({ step: agentCheck.mechanism });
const agent = await runCheck(agentCheck);
bar.increment();
bar.stop();

const performancePassed = performance !== undefined && meetsSpec(performance);
const passed = rows.every((r) => r.passed) && performancePassed && agent.passed;

if (values.json) {
  console.log(JSON.stringify({ passed, mechanisms: rows, performance: performance ?? { error: performanceError }, agent }, null, 2));
} else {
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  console.log('## Validation Summary (live, on worker threads)\n');
  console.log(table(['Mechanism', 'Test Scenario', 'Result', 'Measured'], rows.map((r) => [r.mechanism, r.scenario, verdict(r.passed), r.figure])));
  console.log('\n## Performance Validation\n');
  if (performance === undefined) {
    console.log(`FAIL: ${performanceError}`);
  } else {
    console.log(
      `${performance.streams} streams x ~${performance.taskMs} ms of fixed CPU work on ${performance.threads} threads, median of 3 runs each.\n` +
        `overhead = (parallel - sequential/${performance.threads}) / parallel; targets: overhead < ${SPEC.maxOverhead * 100}%, speedup > ${SPEC.minSpeedup}x\n`,
    );
    console.log(
      table(
        ['Runner', 'Wall ms', 'Speedup', 'Overhead', 'Result'],
        performance.runners.map((r) => [
          r.runner,
          num(r.wallMs),
          `${r.speedup.toFixed(2)}x`,
          r.runner === 'sequential' ? '' : `${(r.overhead * 100).toFixed(1)}%`,
          r.runner === 'Tributary' ? verdict(performancePassed) : '',
        ]),
      ),
    );
    console.log(`\nTributary / raw Piscina wall time: ${performance.vsPiscina.toFixed(3)}x`);
  }
  console.log('\n## Integration Validation\n');
  console.log(table(['Test', 'Scenario', 'Result', 'Measured'], [[agent.mechanism, agent.scenario, verdict(agent.passed), agent.figure]]));
  console.log(`\n${passed ? 'All coordination mechanisms validated.' : 'Validation FAILED.'}`);
}
process.exitCode = passed ? 0 : 1;
