/**
 * The file every Tributary Piscina pool loads in each thread. Piscina `require()`s its
 * filename first; on Node 20.19+ that loads an ES module through require(esm), which can abort
 * the whole process with a V8 fatal error ("v8::Module::IsGraphAsync must be used on an
 * instantiated module") when threads start or are terminated while loading under load. This
 * CommonJS file is required safely and imports the pool's real worker module (its
 * `workerData.entry`, a URL) asynchronously, once per thread.
 */
import workerThreads = require('node:worker_threads');

type Handler = (task: unknown) => Promise<unknown>;

let loading: Promise<Handler> | undefined;
/** The worker module's handler once loaded: later tasks call it directly, not through a promise. */
let loaded: Handler | undefined;

function runTask(task: unknown): Promise<unknown> {
  if (loaded !== undefined) return loaded(task);
  loading ??= import((workerThreads.workerData as { entry: string }).entry).then((m: { default: Handler }) => (loaded = m.default));
  return loading.then((handler) => handler(task));
}

export = runTask;
