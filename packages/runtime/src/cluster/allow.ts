/**
 * Who may run what: a node runs only stream modules under the roots or package names it was
 * started with (`--allow ./streams --allow @acme/render`). A queue names modules, so without
 * this guard anyone who can write to Redis could run code on every node.
 *
 * Rules, checked on the node before anything of the module is loaded:
 * - Only absolute paths, `file:` URLs and package names are considered; `data:`, `http:`,
 *   `https:`, `node:` and every other scheme are refused.
 * - A path must exist and resolve, after following symlinks, inside an allowed root (itself
 *   resolved after symlinks): a symlink under a root that points outside is refused.
 * - A package name (or a subpath of one) must be an allowed package name exactly, and is
 *   resolved from the node's working directory.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '../shared/errors.js';

/**
 * A job named a module this node may not run. The message says which rule refused it and how
 * to allow it (start the node with another `--allow`).
 */
export class ForbiddenModuleError extends InvalidArgumentError {}

/** The roots and package names a node accepts, resolved once at start. */
export interface AllowList {
  /** Real paths of allowed directories (or files). */
  readonly roots: readonly string[];
  /** Allowed package names (`@scope/name` or `name`). */
  readonly packages: readonly string[];
  /** Where package names are resolved from. */
  readonly cwd: string;
}

const PACKAGE_NAME = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i;

/**
 * Builds the allow list from `--allow` entries: a path (relative to `cwd`) or a package name.
 * @throws InvalidArgumentError when a root does not exist.
 */
export function allowList(entries: readonly string[], cwd = process.cwd()): AllowList {
  const roots: string[] = [];
  const packages: string[] = [];
  for (const entry of entries) {
    if (PACKAGE_NAME.test(entry) && !entry.startsWith('.')) {
      packages.push(entry);
      continue;
    }
    try {
      roots.push(realpathSync(resolve(cwd, entry)));
    } catch {
      throw new InvalidArgumentError(`--allow ${entry}: no such file or directory; name an existing directory of stream modules or a package name`);
    }
  }
  return { roots, packages, cwd };
}

/**
 * The `file:` URL a node may load for `task`.
 * @throws ForbiddenModuleError saying why it is refused.
 */
export function vetModule(task: string, allow: AllowList): string {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(task)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'file') {
    throw new ForbiddenModuleError(`stream module ${describe(task)} refused: ${scheme}: modules are never run by a node; use a file under an --allow root or an allowed package`);
  }
  if (scheme === 'file' || isAbsolute(task)) return vetPath(scheme === 'file' ? fileURLToPath(task) : task, task, allow);
  const name = packageName(task);
  if (name === undefined) throw new ForbiddenModuleError(`stream module ${describe(task)} refused: relative paths are not accepted by a node; send an absolute path`);
  if (!allow.packages.includes(name)) {
    throw new ForbiddenModuleError(`stream module ${describe(task)} refused: package ${name} is not allowed; start the node with --allow ${name}`);
  }
  let resolved: string;
  try {
    resolved = createRequire(join(allow.cwd, 'noop.js')).resolve(task);
  } catch (error) {
    throw new ForbiddenModuleError(`stream module ${describe(task)} cannot be resolved from ${allow.cwd}: ${(error as Error).message}`);
  }
  return pathToFileURL(resolved).href;
}

function vetPath(path: string, task: string, allow: AllowList): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new ForbiddenModuleError(`stream module ${describe(task)} refused: no such file on this node (modules are resolved by the same path on every host)`);
  }
  const inside = allow.roots.some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep));
  if (!inside) {
    const via = real === resolve(path) ? '' : ` (it resolves to ${real} through a symlink)`;
    throw new ForbiddenModuleError(`stream module ${describe(task)} refused: it is outside every --allow root${via}; allowed: ${allow.roots.join(', ') || 'none'}`);
  }
  return pathToFileURL(real).href;
}

function packageName(specifier: string): string | undefined {
  if (specifier.startsWith('.')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return PACKAGE_NAME.test(name) ? name : undefined;
}

/** A module name short enough for a message (a data: URL can be megabytes). */
function describe(task: string): string {
  return JSON.stringify(task.length > 80 ? `${task.slice(0, 77)}...` : task);
}
