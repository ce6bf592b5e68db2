/**
 * The file Piscina loads in each stream thread. Piscina `require()`s its filename first; on
 * Node 20.19+ that loads an ES module through require(esm), which can abort the whole process
 * with a V8 fatal error ("v8::Module::IsGraphAsync must be used on an instantiated module") when
 * threads start or are terminated while loading under load. This CommonJS file is required
 * safely and imports the ES worker (`worker.js`) asynchronously, once per thread.
 */
import type { StreamOutcome, StreamTask } from './task.js';

type RunStreamTask = (task: StreamTask) => Promise<StreamOutcome>;

let loading: Promise<RunStreamTask> | undefined;

function runStreamTask(task: StreamTask): Promise<StreamOutcome> {
  loading ??= import('./worker.js').then((m) => m.default);
  return loading.then((run) => run(task));
}

export = runStreamTask;
