/**
 * `tributary-bench`: the shipped CLI. `run` measures users' bench files, `check` gates them
 * against a baseline, `validate` runs the project's validation report. Usage errors print
 * the help and exit 2, never a stack trace. See {@link HELP}.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { table, wrap, MAX_TABLE_WIDTH } from '../report.js';
import { createProgress } from '../progress.js';
import { UsageError, type BenchDefinition, type ThreadCount } from './define.js';
import { describeEnvironment, environment } from './env.js';
import { measureBench, resolveThreads } from './engine.js';
import { gateBench, type GateRow } from './gate.js';
import { HELP } from './help.js';
import { benchFiles, filterBenches, loadBench, type LoadedBench } from './load.js';
import { toBmf } from './outputs/bmf.js';
import { toGab } from './outputs/gab.js';
import { toMarkdown } from './outputs/markdown.js';
import { toSvg } from './outputs/svg.js';
import { benchRows, FIGURE_HEADER, figureRows, HEADER, summary } from './outputs/terminal.js';
import { measureFigures } from './figures.js';
import { isWorkload, SCHEMA, type BenchResult, type RunReport } from './result.js';

const OPTIONS = {
  help: { type: 'boolean', short: 'h', default: false },
  filter: { type: 'string' },
  rounds: { type: 'string' },
  warmup: { type: 'string' },
  threads: { type: 'string' },
  time: { type: 'string' },
  json: { type: 'string' },
  bmf: { type: 'string' },
  gab: { type: 'string' },
  markdown: { type: 'string' },
  svg: { type: 'string' },
  baseline: { type: 'string' },
  update: { type: 'boolean', default: false },
  absolute: { type: 'boolean', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** Runs the CLI on `argv` (without node and the script); resolves to the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    }
    if (command === 'validate') {
      if (rest.includes('--help') || rest.includes('-h')) return help();
      const { validate } = await import('../main.js');
      return await validate(rest);
    }
    if (command !== 'run' && command !== 'check') throw new UsageError(`unknown command ${command}; use run, check or validate`);
    const { values, positionals } = parseArgs({ args: [...rest], options: OPTIONS, allowPositionals: true, strict: true });
    if (values.help) return help();
    if (command === 'check' && values.baseline === undefined) throw new UsageError('check needs --baseline FILE (it is written when missing)');
    if (command === 'run' && (values.baseline !== undefined || values.update || values.absolute)) throw new UsageError('--baseline, --update and --absolute belong to check');
    const loaded = filterBenches(await Promise.all(benchFiles(positionals).map(loadBench)), values.filter);
    const overrides = { rounds: count('rounds', values.rounds, 2), warmup: count('warmup', values.warmup, 0) };
    const threads = threadList(values.threads);
    const timeMs = count('time', values.time, 1);
    const benches = loaded.map((l): LoadedBench => ({
      ...l,
      bench: l.bench.type === 'figures'
        ? { ...l.bench, ...definedOnly({ ...overrides, timeMs }) }
        : { ...l.bench, ...definedOnly({ ...overrides, threads }) },
    }));
    return command === 'run' ? await run(benches, values) : await check(benches, values);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      process.stderr.write(`error: ${(error as Error).message}\n\n${HELP}`);
      return 2;
    }
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}

function help(): number {
  process.stdout.write(HELP);
  return 0;
}

async function run(benches: readonly LoadedBench[], values: Values): Promise<number> {
  const report = await measureAll(benches);
  printReport(report);
  await writeOutputs(report, values);
  return 0;
}

async function check(benches: readonly LoadedBench[], values: Values): Promise<number> {
  const path = values.baseline!;
  const baseline = values.update ? undefined : await readBaseline(path);
  const report = await measureAll(benches);
  printReport(report);
  if (baseline === undefined) {
    await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote baseline ${path} (${report.benches.length} bench(es)); check passes`);
    await writeOutputs(report, values);
    return 0;
  }
  const options = { absolute: values.absolute ?? false };
  const results = [...report.benches];
  let rows = results.flatMap((b) => gateBench(b, baseline, options));
  // A doubtful bench (a metric worse past tolerance, significant or not) is measured once
  // more. A metric regresses only if the second measurement is significantly worse past
  // tolerance AND the first was worse past tolerance: one noisy round set fails nothing.
  const doubtful = new Set(rows.filter((r) => r.status === 'noisy' || r.status === 'regressed').map((r) => r.bench));
  if (doubtful.size > 0) {
    console.log(`\nmeasuring again (worse than the baseline past tolerance): ${[...doubtful].join(', ')}`);
    const first = new Map(rows.map((r) => [`${r.bench}/${r.metric.id}`, r.status]));
    const again = await measureAll(benches.filter((b) => doubtful.has(b.bench.name)));
    for (const b of again.benches) results[results.findIndex((r) => r.name === b.name)] = b;
    rows = results
      .flatMap((b) => gateBench(b, baseline, options))
      .map((r) => (r.status === 'regressed' && first.get(`${r.bench}/${r.metric.id}`) === 'ok' ? { ...r, status: 'noisy' } : r));
  }
  printGate(rows);
  await writeOutputs({ ...report, benches: results }, values);
  const regressed = rows.filter((r) => r.status === 'regressed');
  console.log(
    regressed.length === 0
      ? `\ncheck passed (${rows.length} metrics)`
      : `\ncheck FAILED: ${regressed.map((r) => `${r.bench} ${r.metric.id}`).join(', ')} regressed`,
  );
  return regressed.length === 0 ? 0 : 1;
}

async function measureAll(benches: readonly LoadedBench[]): Promise<RunReport> {
  const env = environment();
  const steps = (b: BenchDefinition): number =>
    b.type === 'figures' ? b.rounds + b.warmup : resolveThreads(b.threads).length * (b.rounds + b.warmup) * (1 + b.baselines.length);
  const progress = createProgress('bench', benches.reduce((n, l) => n + steps(l.bench), 0));
  const results: BenchResult[] = [];
  try {
    for (const { bench, file: path, taskHref } of benches) {
      const file = relative(process.cwd(), path); // results name the file as the user gave it, not this machine's absolute path
      if (bench.type === 'figures') {
        results.push(await measureFigures(bench, file, (step, done) => {
          progress.update(step);
          if (done) progress.increment();
        }));
        continue;
      }
      results.push(await measureBench(bench, file, taskHref!, (step) => {
        progress.update(step);
        progress.increment();
      }));
    }
  } finally {
    progress.stop();
  }
  return { schema: SCHEMA, date: new Date().toISOString(), environment: env, benches: results };
}

function printReport(report: RunReport): void {
  console.log(wrap(`Measured on: ${describeEnvironment(report.environment)}`, MAX_TABLE_WIDTH).join('\n'));
  for (const b of report.benches) {
    console.log(`\n${b.name}: ${summary(b)}\n`);
    console.log(isWorkload(b) ? table(HEADER, benchRows(b)) : table(FIGURE_HEADER, figureRows(b)));
  }
}

function printGate(rows: readonly GateRow[]): void {
  const fmt = (x: number, unit: string): string => (unit === 'x' ? `${x.toFixed(3)}x` : `${x.toFixed(1)} ms`);
  console.log(`\n${table(
    ['Bench', 'Metric', 'Better', 'Baseline', 'Now', 'Worse by', 'Tol.', 'p', 'Verdict'],
    rows.map((r) => [
      r.bench,
      r.metric.id,
      r.metric.better,
      r.baseline ? fmt(r.baseline.value, r.metric.unit) : '-',
      fmt(r.metric.value, r.metric.unit),
      `${(r.worse * 100).toFixed(1)}%`,
      `${(r.metric.tolerance * 100).toFixed(0)}%`,
      r.p.toFixed(3),
      r.status,
    ]),
  )}`);
}

async function writeOutputs(report: RunReport, values: Values): Promise<void> {
  const outputs: [string | undefined, () => string][] = [
    [values.json, () => `${JSON.stringify(report, null, 2)}\n`],
    [values.bmf, () => `${JSON.stringify(toBmf(report), null, 2)}\n`],
    [values.gab, () => `${JSON.stringify(toGab(report), null, 2)}\n`],
    [values.markdown, () => toMarkdown(report)],
    [values.svg, () => toSvg(report)],
  ];
  for (const [file, render] of outputs) {
    if (file === undefined) continue;
    await writeFile(file, render());
    console.log(`wrote ${file}`);
  }
}

async function readBaseline(path: string): Promise<RunReport | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // first run: write it
    throw error;
  }
  let parsed: Partial<RunReport>;
  try {
    parsed = JSON.parse(text) as Partial<RunReport>;
  } catch {
    throw new UsageError(`baseline ${path} is not JSON; write one with check --update`);
  }
  if (parsed.schema !== SCHEMA) throw new UsageError(`baseline ${path} has schema ${String(parsed.schema)}, expected ${SCHEMA}; rewrite it with check --update`);
  return parsed as RunReport;
}

/** `--name value` as an integer of at least `min`, or undefined when the option was not given. */
export function count(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${value}`);
  return n;
}

/** `--threads 1,2,max` as a thread-count list. */
function threadList(value: string | undefined): ThreadCount[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((t) => (t.trim() === 'max' ? 'max' : Number(t)));
  if (list.length === 0 || !list.every((t) => t === 'max' || (Number.isInteger(t) && t > 0))) {
    throw new UsageError(`--threads must be a comma-separated list of positive integers or max, got ${value}`);
  }
  return list;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function isParseArgsError(error: unknown): boolean {
  return typeof (error as { code?: unknown })?.code === 'string' && (error as { code: string }).code.startsWith('ERR_PARSE_ARGS');
}
