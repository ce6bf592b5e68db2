/**
 * The built-in `implement_feature` task: stream `part` of `parts` builds its share of a small
 * "feature" in its own isolated directory — a source module, a test, and a copy of the shared
 * manifest (identical in every stream, so the merge keeps one) — with CPU work between files,
 * heartbeats and progress as it goes, and records its part in the shared state.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StreamError } from '../shared/errors.js';
import type { StreamContext } from '../streams/types.js';

/** What each stream of `implement_feature` receives. */
export interface FeaturePartInput {
  /** Names the feature's files and state key. Required: no default (the agent sets it). */
  readonly feature: string;
  /** This stream's part, 0-based. Required: no default (the agent sets it). */
  readonly part: number;
  /** How many parts the feature has. Required: no default (the agent sets it). */
  readonly parts: number;
  /** CPU work per file, ms. Default 20. */
  readonly workMs?: number;
  /** Record the part in the shared state (the agent's `stateManagement: 'immutable'`). Default true. */
  readonly recordState?: boolean;
}

/** What each stream returns. */
export interface FeaturePartResult {
  readonly part: number;
  readonly files: readonly string[];
}

function burn(ms: number, ctx: StreamContext): void {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 5_000; i++) x += Math.sqrt(i + x);
    ctx.heartbeat();
  }
}

/** One part of the feature. */
export default async function implementFeature(input: FeaturePartInput, ctx: StreamContext): Promise<FeaturePartResult> {
  if (ctx.directory === undefined) {
    throw new StreamError('implement_feature needs an isolated directory: configure isolation: "workspace"');
  }
  const { feature, part, parts } = input;
  const workMs = input.workMs ?? 20;
  const name = `${feature}-part-${part}`;
  const files: Array<[string, string]> = [
    [`src/${name}.ts`, `export function ${camel(name)}(): string {\n  return '${feature} part ${part} of ${parts}';\n}\n`],
    [`test/${name}.test.ts`, `import { ${camel(name)} } from '../src/${name}.js';\n\nconsole.assert(${camel(name)}().includes('part ${part}'));\n`],
    ['feature.json', `${JSON.stringify({ feature, parts }, null, 2)}\n`],
  ];
  for (const [i, [path, content]] of files.entries()) {
    burn(workMs, ctx);
    await mkdir(join(ctx.directory, path, '..'), { recursive: true });
    await writeFile(join(ctx.directory, path), content);
    ctx.progress((i + 1) / files.length, { written: i + 1 });
  }
  if (input.recordState !== false) {
    await ctx.state.createNewVersion(
      (s) => ({ ...s, [feature]: [...((s[feature] as number[] | undefined) ?? []), part].sort((a, b) => a - b) }),
      ctx.id,
    );
  }
  return { part, files: files.map(([path]) => path) };
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
