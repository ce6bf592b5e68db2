// Issue 15: a typed error thrown on a node's main thread (a Redis-backed call) reaches the
// stream's thread as the same class with the same code and data, for every TributaryError
// subclass the package exports: the bridge has no hand-kept list to fall out of step.
import { MessageChannel, Worker } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import * as runtime from '@tributary/runtime';
import { NODE_BIN } from './cluster-nodes.js';
import { firstMessage, fixture } from './helpers.js';

// The bridge is internal to the cluster entry; this test drives the built module, as a node does.
const BRIDGE = pathToFileURL(join(dirname(NODE_BIN), 'bridge.js')).href;

type ErrorClass = new (...args: never[]) => runtime.TributaryError;

/** One instance of each exported error class, with the arguments its constructor takes. */
const MAKE: Record<string, () => runtime.TributaryError> = {
  FileSystemError: () => new runtime.FileSystemError('ENOTDIR', '/data/a/b', 'ENOTDIR: not a directory, open /data/a/b'),
  MergeConflictError: () => new runtime.MergeConflictError([{ path: 'out.txt', streams: ['s1', 's2'] }]),
};

it('every exported TributaryError subclass crosses the bridge as itself, with its code and data', async () => {
  const classes = (Object.entries(runtime) as [string, unknown][]).filter(
    (entry): entry is [string, ErrorClass] => typeof entry[1] === 'function' && (entry[1] as ErrorClass).prototype instanceof runtime.TributaryError,
  );
  // The regression: DeadlockError, CallbackError and FileSystemError came back as StreamError.
  expect(classes.map(([name]) => name)).toEqual(expect.arrayContaining(['DeadlockError', 'CallbackError', 'FileSystemError', 'TimeoutError']));
  const made = new Map(classes.map(([name, Class]) => [name, MAKE[name]?.() ?? new (Class as unknown as new (m: string) => runtime.TributaryError)(`a ${name} from the node`)]));

  const { serveBridge } = (await import(BRIDGE)) as { serveBridge: (port: unknown, words: Int32Array, handlers: Record<string, (a: never) => unknown>) => void };
  const words = new SharedArrayBuffer(5 * 4);
  const { port1, port2 } = new MessageChannel();
  serveBridge(port1, new Int32Array(words), {
    throw: (name: string) => {
      throw made.get(name) ?? new RangeError(`not a Tributary error: ${name}`);
    },
  });
  const names = [...made.keys(), 'RangeError'];
  const worker = new Worker(fixture('cluster/bridge-catch.mjs'), { workerData: { bridgeUrl: BRIDGE, port: port2, words, names }, transferList: [port2] });
  try {
    const caught = await firstMessage<Record<string, unknown>[]>(worker, 20_000);
    for (const c of caught.slice(0, -1)) {
      const sent = made.get(c.name as string)!;
      expect(c, c.name as string).toMatchObject({ thrown: true, instanceOf: true, tributary: true, caughtName: c.name, code: sent.code, message: sent.message });
    }
    expect(caught.find((c) => c.name === 'FileSystemError')).toMatchObject({ errno: 'ENOTDIR', path: '/data/a/b' });
    expect(caught.find((c) => c.name === 'MergeConflictError')).toMatchObject({ conflicts: [{ path: 'out.txt', streams: ['s1', 's2'] }] });
    // A user's own error is not passed off as a Tributary one.
    expect(caught.at(-1)).toMatchObject({ thrown: true, tributary: true, caughtName: 'StreamError', message: 'not a Tributary error: RangeError' });
  } finally {
    port1.close();
    await worker.terminate();
  }
});
