/**
 * Loads stream modules inside a worker: JavaScript through `import()`, TypeScript through
 * tsx's API when tsx is installed (a worker has no loader of its own, even under tsx or vitest).
 */
import { StreamError } from '../shared/errors.js';
import type { StreamFunction } from './types.js';

const TYPESCRIPT = /\.[cm]?tsx?$/;
const cache = new Map<string, Promise<StreamFunction>>();
/** The functions loaded so far, for a caller that need not wait a turn for a promise. */
const loaded = new Map<string, StreamFunction>();

/**
 * The stream function `exportName` (default: the default export) of the module at `href`:
 * the function itself once loaded, else a promise of it.
 */
export function loadStreamFunction(href: string, exportName: string | undefined): StreamFunction | Promise<StreamFunction> {
  const key = `${href}#${exportName ?? 'default'}`;
  const fn = loaded.get(key);
  if (fn !== undefined) return fn;
  let loading = cache.get(key);
  if (loading === undefined) {
    loading = load(href, exportName);
    cache.set(key, loading);
    loading.then(
      (f) => loaded.set(key, f),
      // A failed load is not cached: the file may be fixed before the next run.
      () => cache.delete(key),
    );
  }
  return loading;
}

async function load(href: string, exportName: string | undefined): Promise<StreamFunction> {
  let mod: Record<string, unknown>;
  try {
    mod = TYPESCRIPT.test(new URL(href).pathname) ? await importTypeScript(href) : await import(href);
  } catch (error) {
    throw new StreamError(`cannot load stream module ${href}: ${(error as Error).message}`, { cause: error });
  }
  const name = exportName ?? 'default';
  let fn = mod[name];
  // A CommonJS module's exports arrive as the default export.
  if (typeof fn !== 'function' && name === 'default' && typeof mod.default === 'object' && mod.default !== null) {
    fn = (mod.default as Record<string, unknown>).default;
  }
  if (typeof fn !== 'function') {
    throw new StreamError(`stream module ${href} has no function export "${name}"; export the stream function as ${name}`);
  }
  return fn as StreamFunction;
}

async function importTypeScript(href: string): Promise<Record<string, unknown>> {
  let api: { tsImport(specifier: string, parent: string): Promise<Record<string, unknown>> };
  try {
    api = (await import('tsx/esm/api')) as typeof api;
  } catch (error) {
    throw new StreamError(`${href} is TypeScript: install tsx (a peer dependency) or compile the stream module to JavaScript`, {
      cause: error,
    });
  }
  return api.tsImport(href, import.meta.url);
}
