// The shipped tributary-bench CLI as a user meets it: a temporary project outside the
// workspace, @tributary/runtime and @tributary/bench installed from their packed tarballs,
// and a user-style bench file (fixtures/bench). Real worker threads and child processes;
// no timing is asserted here, only what the CLI writes and the exit status it returns.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from './helpers.js';

const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));
let project: string;

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command, resolving (never rejecting) with its exit status and output. */
function sh(file: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeout = 180_000): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: { ...process.env, ...env }, timeout, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr: error !== null && code === -1 ? `${stderr}\n${error.message}` : stderr });
    });
  });
}

/** The installed CLI, through the bin link npm made. */
function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  return sh(join(project, 'node_modules', '.bin', 'tributary-bench'), args, project, { BENCH_CONTEND: '0', ...env });
}

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'tributary-bench-user-'));
  const packs = join(project, 'packs');
  await mkdir(packs);
  for (const pkg of ['runtime', 'bench']) {
    const packed = await sh('npx', ['-y', 'pnpm@10.34.9', 'pack', '--pack-destination', packs], join(PACKAGES, pkg));
    expect(packed.code, `pnpm pack of ${pkg}: ${packed.stderr}`).toBe(0);
  }
  const tarballs = (await readdir(packs)).map((f) => `./packs/${f}`);
  expect(tarballs).toHaveLength(2);
  const fixtures = fileURLToPath(fixture('bench/'));
  for (const f of await readdir(fixtures)) await copyFile(join(fixtures, f), join(project, f));
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'bench-user', private: true, type: 'module' }));
  const installed = await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], project);
  expect(installed.code, `npm install: ${installed.stderr}`).toBe(0);
}, 300_000);

afterAll(async () => {
  if (project !== undefined) await rm(project, { recursive: true, force: true });
});

describe('tributary-bench run', () => {
  it('writes valid JSON, BMF, github-action-benchmark JSON, Markdown and SVG', async () => {
    const outputs = ['--json', 'r.json', '--bmf', 'r.bmf.json', '--gab', 'r.gab.json', '--markdown', 'r.md', '--svg', 'r.svg'];
    const r = await cli(['run', 'hash.bench.mjs', '--rounds', '3', ...outputs], { BENCH_ITERATIONS: '2000000' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/bench \[\d+\/\d+\] hash, 1 thread\(s\)/); // progress lines without a TTY
    const read = (f: string): Promise<string> => readFile(join(project, f), 'utf8');

    const json = JSON.parse(await read('r.json'));
    expect(json.schema).toBe('tributary-bench/1');
    expect(json.environment).toMatchObject({ cores: availableParallelism(), node: process.version });
    expect(json.environment.cpuModel).toEqual(expect.any(String));
    const [bench] = json.benches;
    expect(bench).toMatchObject({ name: 'hash', inputs: 8, rounds: 3 });
    expect(bench.threads.map((t: { threads: number }) => t.threads)).toEqual([...new Set([1, availableParallelism()])]);
    for (const t of bench.threads) {
      expect(t.runners.map((x: { runner: string }) => x.runner).sort()).toEqual(['piscina', 'sequential', 'tributary']);
      for (const x of t.runners) {
        expect(x.samples).toHaveLength(3);
        expect(x.wallMs.low).toBeLessThanOrEqual(x.wallMs.median);
        expect(x.wallMs.median).toBeLessThanOrEqual(x.wallMs.high);
      }
      expect(t.tributaryVsPiscina).toBeGreaterThan(0);
    }
    expect(bench.metrics.map((m: { id: string }) => m.id)).toContain('1t.speedup');

    const bmf = JSON.parse(await read('r.bmf.json'));
    for (const t of bench.threads) {
      for (const runner of ['sequential', 'piscina', 'tributary']) {
        const latency = bmf[`hash/${t.threads}t/${runner}`].latency;
        expect(latency.lower_value).toBeLessThanOrEqual(latency.value);
        expect(latency.value).toBeLessThanOrEqual(latency.upper_value);
      }
      expect(bmf[`hash/${t.threads}t/tributary`]['vs-piscina'].value).toBeGreaterThan(0);
    }

    const gab = JSON.parse(await read('r.gab.json'));
    expect(gab.length).toBe(bench.threads.length * 4);
    for (const e of gab) {
      expect(e).toMatchObject({ name: expect.any(String), unit: expect.any(String) });
      expect(Number.isFinite(e.value)).toBe(true);
    }
    expect(new Set(gab.map((e: { name: string }) => e.name)).size).toBe(gab.length);

    const md = await read('r.md');
    expect(md).toContain('| Threads | Runner | Wall ms [95% CI] |');
    for (const label of ['sequential', 'raw Piscina', 'Tributary']) expect(md).toMatch(new RegExp(`^\\| 1 \\| ${label} \\|`, 'm'));

    const svg = await read('r.svg');
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'g' }).parse(svg);
    const chart = doc.svg.g[0];
    const series = chart.g.filter((g: Record<string, string>) => g['@_class'] === 'series').map((g: Record<string, string>) => g['@_data-runner']);
    expect(series.sort()).toEqual(['piscina', 'sequential', 'tributary']);
    expect(chart.g.filter((g: Record<string, string>) => g['@_class'] === 'ideal')).toHaveLength(1);
  }, 240_000);
});

describe('tributary-bench check', () => {
  it.skipIf(availableParallelism() < 2)('passes an unchanged workload and fails with exit 1 when its streams contend on a lock', async () => {
    // The streams wait rather than compute, so their speedup needs threads, not idle cores:
    // a CI machine busy with other work still shows it, and still shows it collapse.
    const args = ['check', 'wait.bench.mjs', '--baseline', 'wait-base.json', '--threads', 'max'];
    const first = await cli(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('wrote baseline wait-base.json');
    const unchanged = await cli(args);
    expect(unchanged.code, gateOutput(unchanged)).toBe(0);
    expect(unchanged.stdout).toContain('check passed');
    const contended = await cli(args, { BENCH_CONTEND: '1' });
    expect(contended.code, gateOutput(contended)).toBe(1);
    expect(contended.stdout).toMatch(/check FAILED: wait \d+t\.speedup/);
  }, 400_000);

  it('gates a figure bench: passes unchanged, fails with exit 1 on a planted regression, reports it in every format', async () => {
    const args = ['check', 'mutex.bench.mjs', '--baseline', 'mutex-base.json'];
    const first = await cli(args);
    expect(first.code, first.stderr).toBe(0);
    const unchanged = await cli([...args, '--json', 'm.json', '--bmf', 'm.bmf.json', '--gab', 'm.gab.json', '--markdown', 'm.md']);
    expect(unchanged.code, gateOutput(unchanged)).toBe(0);
    const read = (f: string): Promise<string> => readFile(join(project, f), 'utf8');
    const [bench] = JSON.parse(await read('m.json')).benches;
    expect(bench).toMatchObject({ type: 'figures', name: 'mutex', rounds: 8 });
    expect(bench.figures[0].samples).toHaveLength(8);
    expect(bench.metrics[0]).toMatchObject({ id: 'mutex.lock-unlock', better: 'lower', tolerance: 0.3, gated: true });
    expect(JSON.parse(await read('m.bmf.json'))['mutex/mutex.lock-unlock'].ratio.value).toBe(bench.figures[0].ratio.median);
    expect(JSON.parse(await read('m.gab.json'))).toEqual([expect.objectContaining({ unit: 'ratio', value: expect.any(Number) })]);
    expect(await read('m.md')).toMatch(/^\| mutex\.lock-unlock \|/m);
    const slow = await cli(args, { BENCH_SLOW: '1' });
    expect(slow.code, gateOutput(slow)).toBe(1);
    expect(slow.stdout).toContain('check FAILED: mutex mutex.lock-unlock regressed');
  }, 240_000);
});

/** The gate's verdict table and last lines, for assertion messages. */
function gateOutput(o: Outcome): string {
  return `${o.stdout.slice(o.stdout.indexOf('Bench  Metric'))}\n${o.stderr.split('\n').filter((l) => !l.startsWith('bench [')).join('\n')}`;
}

describe('usage errors', () => {
  const usage = [
    ['no command', []],
    ['an unknown command', ['frobnicate']],
    ['an unknown option', ['run', 'hash.bench.mjs', '--nope']],
    ['check without --baseline', ['check', 'hash.bench.mjs']],
    ['a missing bench file', ['run', 'missing.bench.mjs']],
    ['a bad --rounds', ['run', 'hash.bench.mjs', '--rounds', 'many']],
    ['a bad --threads', ['run', 'hash.bench.mjs', '--threads', '2,lots']],
    ['a bad --time', ['run', 'mutex.bench.mjs', '--time', '0']],
    ['a filter that matches no bench', ['run', 'hash.bench.mjs', '--filter', 'mandel']],
    ['a bench file that is not defineBench', ['run', 'package.json']],
  ] as const;

  it.each(usage)('%s exits 2 with the help text and no stack trace', async (_, args) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain('Usage:');
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('defineBench refuses bad options with a message that says what to fix', async () => {
    await writeFile(join(project, 'bad.bench.mjs'), "import { defineBench } from '@tributary/bench';\nexport default defineBench({ name: 'bad', task: './hash-stream.mjs', inputs: () => [], threads: [0] });\n");
    const r = await cli(['run', 'bad.bench.mjs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("threads must be a non-empty list of positive integers or 'max'");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    await writeFile(join(project, 'bad-gate.bench.mjs'), "import { defineBench } from '@tributary/bench';\nexport default defineBench({ name: 'bad', measure: () => [], gate: { x: -1 } });\n");
    const g = await cli(['run', 'bad-gate.bench.mjs']);
    expect(g.code).toBe(2);
    expect(g.stderr).toContain('gate maps figure ids to tolerances');
  }, 60_000);

  it('--help prints the help and exits 0', async () => {
    for (const args of [['--help'], ['run', '--help'], ['check', '-h']]) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('tributary-bench check [files...] --baseline FILE');
    }
  }, 60_000);
});
