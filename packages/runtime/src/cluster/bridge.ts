/**
 * The bridge between a stream's worker thread and its node's main thread, which owns the Redis
 * connection. A blocking call posts its request on a MessagePort and parks on a shared word
 * (Atomics.wait) until the main thread has answered: the worker may be deep in CPU-bound code
 * with no event loop to spare, and the main thread stays free to renew leases and job locks.
 */
import * as atomics from '../shared/atomics.js';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { InvalidArgumentError, StreamError, TimeoutError } from '../shared/errors.js';
import { reviveError } from '../shared/revive.js';
import { errorInfo } from '../streams/task.js';
import type { StreamErrorInfo } from '../streams/types.js';
import { CALL } from './job.js';

/** A request from the worker: `op` names a handler of the node's {@link BridgeHandlers}. */
export interface BridgeRequest {
  readonly op: string;
  readonly args: unknown;
  /** Number of a blocking call, echoed by its reply; 0 for fire-and-forget messages (heartbeat details). */
  readonly seq: number;
}

type Answer = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: StreamErrorInfo };
type BridgeReply = Answer & { readonly seq: number };

/** The node side: what each op does. */
export type BridgeHandlers = Readonly<Record<string, (args: never) => unknown>>;

/** How long a blocking call may wait beyond its own timeout for the main thread's answer. */
const ANSWER_SLACK_MS = 30_000;

/** The worker side of the bridge. */
export class BridgeClient {
  readonly #port: MessagePort;
  readonly #words: Int32Array;
  #seq = 0;

  constructor(port: MessagePort, words: Int32Array) {
    this.#port = port;
    this.#words = words;
  }

  /** Sends `op` without waiting for an answer. */
  send(op: string, args: unknown): void {
    this.#port.postMessage({ op, args, seq: 0 } satisfies BridgeRequest);
  }

  /**
   * Runs `op` on the main thread and blocks this thread until it answers.
   * Quick ops pass `timeoutMs` 0; waits pass their own timeout, or none when the node bounds them.
   * @throws the op's typed error; TimeoutError if no answer comes within `timeoutMs` plus a slack.
   */
  call<T>(op: string, args: unknown, timeoutMs?: number): T {
    const seq = ++this.#seq;
    this.#port.postMessage({ op, args, seq } satisfies BridgeRequest);
    // An op without a timeout (a barrier wait) ends when the run is cancelled or the barrier breaks.
    const limit = timeoutMs === undefined ? Infinity : timeoutMs + ANSWER_SLACK_MS;
    const deadline = Date.now() + limit;
    // CALL holds the number of the last answered call: a late answer to an earlier call that
    // gave up does not wake this one for good, and its message is skipped below.
    for (let answered = atomics.load(this.#words, CALL); answered !== seq; answered = atomics.load(this.#words, CALL)) {
      const left = deadline - Date.now();
      if (left <= 0 || atomics.wait(this.#words, CALL, answered, left) === 'timed-out') {
        throw new TimeoutError(`the node did not answer ${op} within ${limit} ms; is its main thread blocked?`);
      }
    }
    let reply: BridgeReply | undefined;
    do reply = receiveMessageOnPort(this.#port)?.message as BridgeReply | undefined;
    while (reply !== undefined && reply.seq !== seq);
    if (reply === undefined) throw new StreamError(`the node answered ${op} without a message (bridge out of step)`);
    if (reply.ok) return reply.value as T;
    // Typed errors come back as the same classes with their codes and data (errno, path, ...), so a
    // stream catches BrokenBarrierError or FileSystemError as in one process; anything else is a StreamError.
    throw reviveError(reply.error) ?? new StreamError(reply.error.message);
  }
}

/**
 * The node side: answers every request on `port` with `handlers`, then wakes the worker.
 * `onPark` hears +1 when a blocking call starts and -1 when it is answered (the worker is
 * parked meanwhile: it counts as beating). Default: none.
 */
export function serveBridge(port: MessagePort, words: Int32Array, handlers: BridgeHandlers, onPark?: (delta: 1 | -1) => void): void {
  port.on('message', (request: BridgeRequest) => {
    const handler = handlers[request.op] as ((args: unknown) => unknown) | undefined;
    if (request.seq !== 0) onPark?.(1);
    void (async (): Promise<Answer> => {
      try {
        if (handler === undefined) throw new InvalidArgumentError(`unknown bridge op ${request.op}`);
        return { ok: true, value: await handler(request.args) };
      } catch (error) {
        return { ok: false, error: errorInfo(error) };
      }
    })().then((reply) => {
      if (request.seq === 0) return;
      onPark?.(-1);
      port.postMessage({ ...reply, seq: request.seq });
      // Posted first, then woken: the worker reads the answer with receiveMessageOnPort.
      atomics.store(words, CALL, request.seq);
      atomics.notify(words, CALL);
    });
  });
}
