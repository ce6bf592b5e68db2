/**
 * DirectoryIsolation: one directory per stream, so streams never write over each other, and a
 * merge at the end that copies every stream's files into one tree and reports conflicts.
 *
 * Each `allocateStreamDirectory(id)` call makes a fresh directory (`<root>/<id>/attempt-<n>`):
 * a restarted stream's new attempt never shares a directory with a zombie predecessor. The
 * merge reads each stream's newest attempt.
 *
 * Merge rules: a relative path written by one stream is copied; written by several with the
 * same bytes, copied once; with different bytes, it is a conflict, handled by `onConflict`:
 * `'error'` (default: a MergeConflictError listing every conflict, nothing copied), `'rename'`
 * (every version kept as `name.<streamId>.ext`, or `name.<streamId>-<n>.ext` when that name is
 * taken: a renamed file never lands on a path any stream wrote, or on another renamed file),
 * or a resolver returning the bytes to write.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { InvalidArgumentError, MergeConflictError, type MergeConflict } from '../shared/errors.js';
import { filePath, nonEmptyString, optionsObject } from '../shared/validate.js';
import { onDisk, onDiskAsync } from './fs-errors.js';

/** One version of a conflicting path, as a resolver sees it. */
export interface ConflictVersion {
  readonly streamId: string;
  /** Absolute path of that stream's file. */
  readonly file: string;
}

/** Decides what to write at a conflicting path. */
export type ConflictResolver = (path: string, versions: readonly ConflictVersion[]) => string | Uint8Array | Promise<string | Uint8Array>;

/** Options of {@link DirectoryIsolation.mergeStreamOutputs}. */
export interface MergeOptions {
  /** Copy the merged tree here (created if missing). Default: none, the merge only reports. */
  readonly into?: string;
  /** What to do with paths written differently by several streams. Default 'error'. */
  readonly onConflict?: 'error' | 'rename' | ConflictResolver;
}

/** What the merge found for one stream. */
export interface MergeEntry {
  readonly streamId: string;
  readonly directory: string;
  /** Files the stream wrote, relative to its directory, sorted. */
  readonly files: readonly string[];
  /** Of those, the ones another stream wrote with different content. */
  readonly conflicts: readonly string[];
  /**
   * With `onConflict: 'rename'`: each conflicting file of this stream and the path, relative to
   * `into`, its bytes are (or would be) copied to. Empty under the other policies.
   */
  readonly renamed: ReadonlyMap<string, string>;
}

/** Per-stream directories with a conflict-reporting merge. See the module documentation. */
export class DirectoryIsolation {
  /** The directory every stream directory lives under. */
  readonly root: string;
  readonly #ownsRoot: boolean;
  readonly #latest = new Map<string, string>();
  readonly #attempts = new Map<string, number>();

  /** @param options.root where stream directories go. Default: a fresh directory under the OS temp dir. */
  constructor(options?: { readonly root?: string }) {
    const o = optionsObject('options', options);
    if (o.root === undefined) {
      this.root = onDisk('create a directory in', tmpdir(), () => mkdtempSync(join(tmpdir(), 'tributary-')));
      this.#ownsRoot = true;
    } else {
      const root = resolve(filePath('options.root', o.root));
      onDisk('create', root, () => mkdirSync(root, { recursive: true }));
      this.root = root;
      this.#ownsRoot = false;
    }
  }

  /** Creates and returns a fresh directory for `streamId` (a new one on every call). */
  allocateStreamDirectory(streamId: string): string {
    checkStreamId(streamId);
    const attempt = (this.#attempts.get(streamId) ?? 0) + 1;
    const directory = join(this.root, streamId, `attempt-${attempt}`);
    onDisk('create', directory, () => mkdirSync(directory, { recursive: true }));
    this.#attempts.set(streamId, attempt);
    this.#latest.set(streamId, directory);
    return directory;
  }

  /** The newest directory of `streamId`, if it has one. */
  directoryOf(streamId: string): string | undefined {
    nonEmptyString('streamId', streamId);
    return this.#latest.get(streamId);
  }

  /**
   * Merges every stream's newest directory. See the module documentation.
   * @throws MergeConflictError under `onConflict: 'error'`; FileSystemError (with `errno` and
   * `path`) when a file cannot be read or written (a file where another stream made a directory, ...).
   */
  async mergeStreamOutputs(options?: MergeOptions): Promise<MergeEntry[]> {
    return mergeStreamDirectories(this.#latest, options);
  }

  /** Removes the stream directories (and the root, if this instance made it). */
  cleanup(): void {
    if (this.#ownsRoot) onDisk('remove', this.root, () => rmSync(this.root, { recursive: true, force: true }));
    else {
      for (const streamId of this.#attempts.keys()) {
        const directory = join(this.root, streamId);
        onDisk('remove', directory, () => rmSync(directory, { recursive: true, force: true }));
      }
    }
    this.#latest.clear();
    this.#attempts.clear();
  }
}

/**
 * Merges the directories of `latest` (stream id -> its newest directory) under the rules of the
 * module documentation: what {@link DirectoryIsolation.mergeStreamOutputs} does, for callers
 * that keep their own directories (the cluster coordinator, whose nodes made them).
 * @throws MergeConflictError under `onConflict: 'error'`; FileSystemError when a file cannot be read or written.
 */
export async function mergeStreamDirectories(latest: ReadonlyMap<string, string>, options?: MergeOptions): Promise<MergeEntry[]> {
  const o = optionsObject('options', options);
  if (o.into !== undefined) filePath('options.into', o.into);
  const policy = o.onConflict ?? 'error';
  if (policy !== 'error' && policy !== 'rename' && typeof policy !== 'function') {
    throw new InvalidArgumentError(`options.onConflict must be 'error', 'rename' or a function`);
  }
  const streams = await Promise.all(
    [...latest].map(async ([streamId, directory]) => ({ streamId, directory, files: await listFiles(directory) })),
  );
  // path -> content hash -> streams that wrote it
  const versions = new Map<string, Map<string, ConflictVersion[]>>();
  for (const s of streams) {
    for (const file of s.files) {
      const absolute = join(s.directory, file);
      const bytes = await onDiskAsync('read', absolute, () => readFile(absolute));
      const digest = createHash('sha256').update(bytes).digest('hex');
      const byHash = versions.get(file) ?? new Map<string, ConflictVersion[]>();
      versions.set(file, byHash);
      byHash.set(digest, [...(byHash.get(digest) ?? []), { streamId: s.streamId, file: absolute }]);
    }
  }
  const conflicts: MergeConflict[] = [...versions]
    .filter(([, byHash]) => byHash.size > 1)
    .map(([path, byHash]) => ({ path, streams: [...byHash.values()].flat().map((v) => v.streamId) }));
  const renames = policy === 'rename' ? planRenames(versions) : new Map<string, string>();
  if (o.into !== undefined) {
    // Everything is decided before anything is copied: a refused merge leaves `into` untouched.
    if (conflicts.length > 0 && policy === 'error') throw new MergeConflictError(conflicts);
    await copyMerged(resolve(o.into), versions, policy, renames);
  }
  const conflicted = new Set(conflicts.map((c) => c.path));
  return streams.map((s) => {
    const own = s.files.filter((f) => conflicted.has(f));
    const renamed = new Map<string, string>();
    for (const f of own) {
      const target = renames.get(join(s.directory, f));
      if (target !== undefined) renamed.set(f, target);
    }
    return { ...s, conflicts: own, renamed };
  });
}

/** Checks that `streamId` can name a directory under a root without escaping it. @throws InvalidArgumentError */
export function checkStreamId(streamId: string): void {
  nonEmptyString('streamId', streamId);
  if (isAbsolute(streamId) || streamId.includes('/') || streamId.includes('\\') || streamId === '.' || streamId === '..' || streamId.includes('\0')) {
    throw new InvalidArgumentError(`streamId ${JSON.stringify(streamId)} would escape the isolation root; use a plain name without slashes or dots-only`);
  }
}

async function listFiles(directory: string): Promise<string[]> {
  const entries = await onDiskAsync('list', directory, () => readdir(directory, { recursive: true, withFileTypes: true }));
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(directory, join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).split(sep).join('/'))
    .sort();
}

/**
 * The new name of every version of every conflicting path (keyed by the version's absolute
 * file). A name is free when no stream wrote a file or directory there and no earlier rename
 * took it; `name.<id>.ext` is tried first, then `name.<id>-2.ext`, `-3`, ...
 */
function planRenames(versions: Map<string, Map<string, ConflictVersion[]>>): Map<string, string> {
  const taken = new Set<string>();
  for (const path of versions.keys()) {
    for (let at = path; at !== '.' && at !== ''; at = posix.dirname(at)) taken.add(at);
  }
  const renames = new Map<string, string>();
  for (const [path, byHash] of versions) {
    if (byHash.size === 1) continue;
    const ext = posix.extname(path);
    const stem = path.slice(0, path.length - ext.length);
    for (const v of [...byHash.values()].flat()) {
      let name = `${stem}.${v.streamId}${ext}`;
      for (let n = 2; taken.has(name); n++) name = `${stem}.${v.streamId}-${n}${ext}`;
      taken.add(name);
      renames.set(v.file, name);
    }
  }
  return renames;
}

async function copyMerged(
  into: string,
  versions: Map<string, Map<string, ConflictVersion[]>>,
  policy: NonNullable<MergeOptions['onConflict']>,
  renames: Map<string, string>,
): Promise<void> {
  for (const [path, byHash] of versions) {
    const target = join(into, path);
    await onDiskAsync('create', dirname(target), () => mkdir(dirname(target), { recursive: true }));
    const groups = [...byHash.values()];
    if (groups.length === 1) {
      await onDiskAsync('write', target, () => copyFile(groups[0]![0]!.file, target));
    } else if (policy === 'rename') {
      for (const v of groups.flat()) {
        const renamed = join(into, renames.get(v.file)!);
        await onDiskAsync('write', renamed, () => copyFile(v.file, renamed));
      }
    } else if (typeof policy === 'function') {
      const content = await policy(path, groups.flat());
      if (typeof content !== 'string' && !(content instanceof Uint8Array)) {
        throw new InvalidArgumentError(`options.onConflict returned ${typeof content} for ${path}; return a string or a Uint8Array`);
      }
      await onDiskAsync('write', target, () => writeFile(target, content));
    }
  }
}
