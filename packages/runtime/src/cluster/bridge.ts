/**
 * The bridge between a stream's worker thread and its node's main thread, which owns the Redis
 * connection. A blocking call posts its request on a MessagePort and parks on a shared word
 * (Atomics.wait) until the main thread has answered: the worker may be deep in CPU-bound code
 * with no event loop to spare, and the main thread stays free to renew leases and job locks.
 */
import * as atomics from '../shared/atomics.js';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import {
  AbortedError,
  BrokenBarrierError,
  ConflictError,
  InvalidArgumentError,
  InvalidStateError,
  NotOwnerError,
  ResourceError,
  StreamError,
  TimeoutError,
  type TributaryError,
} from '../shared/errors.js';
import { errorInfo } from '../streams/task.js';
import type { StreamErrorInfo } from '../streams/types.js';
import { CALL } from './job.js';

/** A request from the worker: `op` names a handler of the node's {@link BridgeHandlers}. */
export interface BridgeRequest {
  readonly op: string;
  readonly args: unknown;
  /** False for fire-and-forget messages (heartbeat details). */
  readonly reply: boolean;
}

type BridgeReply = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: StreamErrorInfo };

/** The node side: what each op does. */
export type BridgeHandlers = Readonly<Record<string, (args: never) => unknown>>;

// Typed errors come back as the same classes, so a stream catches BrokenBarrierError as in one process.
const ERRORS: Record<string, new (message: string) => TributaryError> = {
  AbortedError,
  BrokenBarrierError,
  ConflictError,
  InvalidArgumentError,
  InvalidStateError,
  NotOwnerError,
  ResourceError,
  TimeoutError,
};

/** How long a blocking call may wait beyond its own timeout for the main thread's answer. */
const ANSWER_SLACK_MS = 30_000;

/** The worker side of the bridge. */
export class BridgeClient {
  readonly #port: MessagePort;
  readonly #words: Int32Array;

  constructor(port: MessagePort, words: Int32Array) {
    this.#port = port;
    this.#words = words;
  }

  /** Sends `op` without waiting for an answer. */
  send(op: string, args: unknown): void {
    this.#port.postMessage({ op, args, reply: false } satisfies BridgeRequest);
  }

  /**
   * Runs `op` on the main thread and blocks this thread until it answers.
   * Quick ops pass `timeoutMs` 0; waits pass their own timeout, or none when the node bounds them.
   * @throws the op's typed error; TimeoutError if no answer comes within `timeoutMs` plus a slack.
   */
  call<T>(op: string, args: unknown, timeoutMs?: number): T {
    // Reset before sending: the main thread sets it after posting its answer.
    atomics.store(this.#words, CALL, 0);
    this.#port.postMessage({ op, args, reply: true } satisfies BridgeRequest);
    // An op without a timeout (a barrier wait) ends when the run is cancelled or the barrier breaks.
    const limit = timeoutMs === undefined ? Infinity : timeoutMs + ANSWER_SLACK_MS;
    if (atomics.wait(this.#words, CALL, 0, limit) === 'timed-out') {
      throw new TimeoutError(`the node did not answer ${op} within ${limit} ms; is its main thread blocked?`);
    }
    const reply = receiveMessageOnPort(this.#port)?.message as BridgeReply | undefined;
    if (reply === undefined) throw new StreamError(`the node answered ${op} without a message (bridge out of step)`);
    if (reply.ok) return reply.value as T;
    const Type = ERRORS[reply.error.name];
    const error = Type === undefined ? new StreamError(reply.error.message) : new Type(reply.error.message);
    throw error;
  }
}

/** The node side: answers every request on `port` with `handlers`, then wakes the worker. */
export function serveBridge(port: MessagePort, words: Int32Array, handlers: BridgeHandlers): void {
  port.on('message', (request: BridgeRequest) => {
    const handler = handlers[request.op] as ((args: unknown) => unknown) | undefined;
    void (async (): Promise<BridgeReply> => {
      try {
        if (handler === undefined) throw new InvalidArgumentError(`unknown bridge op ${request.op}`);
        return { ok: true, value: await handler(request.args) };
      } catch (error) {
        return { ok: false, error: errorInfo(error) };
      }
    })().then((reply) => {
      if (!request.reply) return;
      port.postMessage(reply);
      // Posted first, then woken: the worker reads the answer with receiveMessageOnPort.
      atomics.store(words, CALL, 1);
      atomics.notify(words, CALL);
    });
  });
}
