// Bootstrap for benchmark workers written in TypeScript: Node 20 loads a worker's entry before
// any --import hook applies, so the entry is loaded through tsx's API instead.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
