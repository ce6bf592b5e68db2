// Issue 12 item 7: mergeStreamOutputs({ onConflict: 'rename' }) never overwrites. Property:
// random outputs of several streams with colliding names (including names that look like other
// streams' renamed files), merged, and every stream's every file is in the result byte for byte.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DirectoryIsolation } from '@tributary/runtime';
import { seeded } from './fuzz-random.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tributary-merge-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const IDS = ['a', 'b', 'c', 'a-2', 'x'];
// Stems and suffixes chosen to collide: `f.a.txt` is both a name a stream may write and the name
// stream a's conflicting `f.txt` would first be renamed to; `f.a-2.txt` the next try after that.
const STEMS = ['f', 'f.a', 'f.b', 'f.a-2', 'f.c'];
const EXTS = ['.txt', ''];
const DIRS = ['', 'd/'];
const CONTENTS = ['A', 'B', 'same', ''];

it('rename keeps every version of every file: random colliding outputs, merged, nothing lost', { timeout: 60_000 }, async () => {
  const random = seeded('merge rename property');
  for (let round = 0; round < 15; round++) {
    const isolation = new DirectoryIsolation({ root: join(dir, `r${round}`, 'streams') });
    const written = new Map<string, Map<string, Buffer>>();
    const streams = IDS.slice(0, 3 + random.below(IDS.length - 2));
    for (const id of streams) {
      const directory = isolation.allocateStreamDirectory(id);
      const files = new Map<string, Buffer>();
      for (let i = 0, n = 2 + random.below(7); i < n; i++) {
        const path = random.pick(DIRS) + random.pick(STEMS) + random.pick(EXTS);
        // Mostly shared contents (so equal versions merge once), sometimes bytes unique to this file.
        const content = Buffer.from(random.next() < 0.7 ? random.pick(CONTENTS) : `${id}:${path}:${random.next()}`);
        files.set(path, content);
        await mkdir(dirname(join(directory, path)), { recursive: true });
        await writeFile(join(directory, path), content);
      }
      written.set(id, files);
    }
    const into = join(dir, `r${round}`, 'merged');
    const merged = await isolation.mergeStreamOutputs({ into, onConflict: 'rename' });
    for (const entry of merged) {
      for (const [path, content] of written.get(entry.streamId)!) {
        const target = entry.renamed.get(path) ?? path;
        const found = await readFile(join(into, target)).catch(() => undefined);
        expect(found, `seed ${random.seed}, round ${round}: ${entry.streamId}'s ${path} (at ${target})`).toEqual(content);
      }
    }
  }
});
