/** Finding and loading users' bench files. */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError, type BenchDefinition } from './define.js';

/** A loaded bench: its definition, the file it came from, and (for a workload) its task module's URL. */
export interface LoadedBench {
  readonly bench: BenchDefinition;
  readonly file: string;
  readonly taskHref?: string;
}

const BENCH_FILE = /\.bench\.(mjs|js|ts|mts)$/;

/** `files`, or when none are given the bench files in ./bench and ./ (`*.bench.mjs` etc.). */
export function benchFiles(files: readonly string[], cwd = process.cwd()): string[] {
  if (files.length > 0) return files.map((f) => resolve(cwd, f));
  const found = ['bench', '.']
    .map((d) => resolve(cwd, d))
    .filter((d) => existsSync(d))
    .flatMap((d) => readdirSync(d).filter((f) => BENCH_FILE.test(f)).map((f) => join(d, f)));
  if (found.length === 0) throw new UsageError('no bench files given, and none named *.bench.mjs or *.bench.js in ./bench or ./');
  return found;
}

/** Imports `file` and checks that its default export came from `defineBench`. */
export async function loadBench(file: string): Promise<LoadedBench> {
  if (!existsSync(file)) throw new UsageError(`bench file ${file} does not exist`);
  let mod: { default?: { kind?: unknown } };
  try {
    mod = (await import(pathToFileURL(file).href)) as typeof mod;
  } catch (error) {
    if (error instanceof UsageError) throw error; // defineBench refused its options
    throw new UsageError(`bench file ${file} could not be loaded: ${(error as Error).message}`);
  }
  const bench = mod.default;
  if (bench?.kind !== 'tributary-bench') throw new UsageError(`${file}: the default export must be defineBench({ ... }) from '@tributary/bench'`);
  const def = bench as BenchDefinition;
  return def.type === 'figures' ? { bench: def, file } : { bench: def, file, taskHref: taskHref(def.task, file) };
}

/** The task module as a URL: URLs and file: strings as they are, paths against the bench file. */
function taskHref(task: string | URL, file: string): string {
  if (task instanceof URL) return task.href;
  if (task.startsWith('file:')) return task;
  const path = resolve(dirname(file), task);
  if (!existsSync(path)) throw new UsageError(`${file}: task ${task} resolves to ${path}, which does not exist`);
  return pathToFileURL(path).href;
}

/** The benches whose name contains one of the comma-separated `filter` words (all when undefined). */
export function filterBenches(loaded: readonly LoadedBench[], filter: string | undefined): LoadedBench[] {
  if (filter === undefined) return [...loaded];
  const words = filter.split(',').map((w) => w.trim()).filter(Boolean);
  const picked = loaded.filter((l) => words.some((w) => l.bench.name.includes(w)));
  if (picked.length === 0) throw new UsageError(`--filter ${filter} matches no bench; benches are: ${loaded.map((l) => l.bench.name).join(', ')}`);
  return picked;
}
