// The cluster's dependencies load only with the ./cluster entry: users of "." never pay for
// (or need) bullmq and ioredis at run time.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Modules under node_modules/<name>/ that a fresh process loaded after importing `entry`. */
function loadedPackages(entry: string): string[] {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(entry)});
    const cache = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(cache));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url), encoding: 'utf8' });
  return (JSON.parse(out) as string[]).filter((p) => /[/\\\\]node_modules[/\\\\](ioredis|bullmq)[/\\\\]/.test(p));
}

describe('cluster entry isolation', () => {
  it('"." loads neither bullmq nor ioredis; "./cluster" does', () => {
    expect(loadedPackages('@tributary/runtime')).toEqual([]);
    // The positive control: the same probe sees ioredis once the cluster entry is imported.
    expect(loadedPackages('@tributary/runtime/cluster').some((p) => p.includes('ioredis'))).toBe(true);
  });
});
