// Isolation workload: every stream writes `output.txt` (same name) in its own directory.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export default async function writeOutput(_input, ctx) {
  await writeFile(join(ctx.directory, 'output.txt'), `${ctx.id} output`);
}
