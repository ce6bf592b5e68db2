/**
 * The published package seen by a strict TypeScript consumer outside the workspace: the
 * runtime is packed (`pnpm pack`) and installed from the tarball with npm into a temporary
 * directory, next to fixtures/consumer/tsconfig.json (`strict`, no `skipLibCheck`, no DOM lib).
 * There, every TypeScript block of the README and an import of both entry points compile, and
 * the README's sync example runs on plain Node with a real worker thread. The installed package
 * also holds the README, the LICENSE and the sources its source maps name.
 *
 * What this guards: a declaration that reaches Comlink's types (they need the DOM lib's
 * `Transferable` and `EventListenerOrEventListenerObject`) or any other DOM-only type fails
 * the first test, because nothing skips checking the package's .d.ts files.
 */
import { execFile } from 'node:child_process';
import { access, copyFile, mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from './helpers.js';

const exec = promisify(execFile);
const runtimeDir = fileURLToPath(new URL('../../runtime/', import.meta.url));
const readmePath = fileURLToPath(new URL('../../../README.md', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** A TypeScript block of the README: the file it becomes and the section it sits in. */
interface Example {
  readonly file: string;
  readonly section: string;
  readonly source: string;
}

/** Every ```ts block; one whose first line is `// name.ts...` is saved under that name. */
function readmeExamples(readme: string): Example[] {
  const examples: Example[] = [];
  for (const match of readme.matchAll(/^```ts\n([\s\S]*?)^```/gm)) {
    const source = match[1]!;
    const heading = [...readme.slice(0, match.index).matchAll(/^## (.+)$/gm)].at(-1);
    const named = /^\/\/ ([\w-]+\.ts)\b/.exec(source);
    examples.push({ file: named?.[1] ?? `readme-${examples.length + 1}.ts`, section: heading?.[1] ?? 'top', source });
  }
  return examples;
}

const examples = readmeExamples(await readFile(readmePath, 'utf8'));

/**
 * README blocks that do not compile yet, each with the one error it is allowed. The short
 * example's `callback: (r) => console.log(r.id, r.status)` sees `r` as `never` until
 * ConvergenceOptions becomes a union typed per convergence type (issue 10, item 1); the test
 * below fails as soon as the block compiles, so the entry cannot outlive the fix.
 */
const KNOWN_BROKEN: Readonly<Record<string, RegExp>> = {};

// pnpm runs the suite with its own npm_* settings in the environment; the consumer's npm must
// not inherit them (it is a project of its own).
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));

let consumer: string;
/** tsc's diagnostics by file (relative to the consumer), one line each. */
const diagnostics = new Map<string, string[]>();

/** Whether `path` exists. */
function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Packs the runtime into `dir`; returns the tarball's path. */
async function pack(dir: string): Promise<string> {
  await exec('npx', ['-y', 'pnpm@10.34.9', 'pack', '--pack-destination', dir], { cwd: runtimeDir, env, timeout: 60_000 });
  const tarball = (await readdir(dir)).find((name) => name.endsWith('.tgz'));
  if (tarball === undefined) throw new Error(`pnpm pack left no tarball in ${dir}`);
  return join(dir, tarball);
}

/**
 * Installs the tarball with npm, offline: the runtime's dependencies are linked first to the
 * copies the workspace installed (the exact versions it pins), so npm finds them satisfied and
 * fetches nothing. @types/node is linked too (a consumer brings its own).
 */
async function install(dir: string, tarball: string): Promise<void> {
  const manifest = JSON.parse(await readFile(join(runtimeDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  await mkdir(join(dir, 'node_modules', '@types'), { recursive: true });
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    await mkdir(join(dir, 'node_modules', name, '..'), { recursive: true });
    await symlink(await realpath(join(runtimeDir, 'node_modules', name)), join(dir, 'node_modules', name), 'dir');
  }
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'strict-consumer', private: true, type: 'module' }));
  await exec('npm', ['install', tarball, '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, env, timeout: 60_000 });
  // After npm: it would prune a package the consumer's manifest does not name.
  await symlink(await realpath(join(runtimeDir, 'node_modules', '@types', 'node')), join(dir, 'node_modules', '@types', 'node'), 'dir');
}

/** Runs tsc in the consumer (it emits to out/ even with errors) and files each diagnostic by path. */
async function compile(dir: string): Promise<void> {
  const output = await exec(process.execPath, [tsc, '-p', '.', '--pretty', 'false'], { cwd: dir, timeout: 60_000 }).then(
    (r) => r.stdout,
    // Exit status 2 is "errors reported"; the report itself is what the tests look at.
    (e: { code?: unknown; stdout?: string }) => {
      if (e.code !== 2 || e.stdout === undefined) throw e;
      return e.stdout;
    },
  );
  for (const line of output.split('\n')) {
    // An error without a place (a missing global type, a bad tsconfig) is filed as '(global)'.
    const file = /^(.+?)\(\d+,\d+\): error /.exec(line)?.[1] ?? (/\berror TS\d+/.test(line) ? '(global)' : undefined);
    if (file !== undefined) diagnostics.set(file, [...(diagnostics.get(file) ?? []), line]);
  }
}

beforeAll(async () => {
  consumer = await mkdtemp(join(tmpdir(), 'tributary-consumer-'));
  await install(consumer, await pack(consumer));
  await copyFile(fixture('consumer/tsconfig.json'), join(consumer, 'tsconfig.json'));
  await copyFile(fixture('consumer/entries.ts'), join(consumer, 'entries.ts'));
  for (const example of examples) await writeFile(join(consumer, example.file), example.source);
  await compile(consumer);
}, 200_000);

afterAll(async () => {
  if (consumer !== undefined) await rm(consumer, { recursive: true, force: true });
});

describe('a strict consumer installed from the packed tarball', () => {
  it('finds the README examples to compile', () => {
    expect(examples.map((e) => e.file)).toEqual(expect.arrayContaining(['main.ts', 'add.ts']));
    expect(examples.some((e) => e.section === 'A short example')).toBe(true);
  });

  it("type-checks the package's declarations (no Comlink or DOM types leak)", () => {
    // Anything but the consumer's own files: the package's .d.ts and whatever they pull in
    // (tsc names a linked dependency by its real path, outside node_modules/).
    const own = new Set(['entries.ts', ...examples.map((e) => e.file)]);
    const elsewhere = [...diagnostics].filter(([file]) => !own.has(file)).flatMap(([, lines]) => lines);
    expect(elsewhere).toEqual([]);
  });

  it('compiles an import of both entry points', () => {
    expect(diagnostics.get('entries.ts') ?? []).toEqual([]);
  });

  const compiling = examples.filter((e) => !(e.file in KNOWN_BROKEN));
  it.each(compiling.map((e) => [`${e.file} (${e.section})`, e.file] as const))('compiles the README block %s', (_, file) => {
    expect(diagnostics.get(file) ?? []).toEqual([]);
  });

  const broken = examples.filter((e) => e.file in KNOWN_BROKEN);
  it.each(broken.map((e) => [`${e.file} (${e.section})`, e.file] as const))('README block %s fails only as its known issue says', (_, file) => {
    const lines = diagnostics.get(file) ?? [];
    expect(lines, `${file} compiles now: drop it from KNOWN_BROKEN`).not.toEqual([]);
    expect(lines.filter((line) => !KNOWN_BROKEN[file]!.test(line))).toEqual([]);
  });

  it('gets README.md, LICENSE and source maps whose sources the package holds', async () => {
    const installed = join(consumer, 'node_modules', '@tributary', 'runtime');
    expect(await readFile(join(installed, 'README.md'), 'utf8')).toBe(await readFile(readmePath, 'utf8'));
    expect(await readFile(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the Tributary authors\n/);
    const maps = (await readdir(join(installed, 'dist'), { recursive: true })).filter((f) => f.endsWith('.map'));
    expect(maps).toEqual(expect.arrayContaining(['index.js.map', 'index.d.ts.map', join('sync', 'index.js.map')]));
    const missing: string[] = [];
    for (const map of maps) {
      const at = join(installed, 'dist', map);
      const { sources, sourceRoot = '' } = JSON.parse(await readFile(at, 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const target = join(dirname(at), sourceRoot, source);
        if (!target.startsWith(installed) || !(await exists(target))) missing.push(`${map} -> ${source}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("runs the README's sync example: a Mutex from '@tributary/runtime/sync' in main and 2 workers", async () => {
    // Plain node, no loader: the compiled example imports the installed package's './sync' entry.
    const { stdout } = await exec(process.execPath, ['out/main.js'], { cwd: consumer, env: { PATH: process.env.PATH }, timeout: 20_000 });
    expect(stdout.trim()).toBe('2000');
  });
});
