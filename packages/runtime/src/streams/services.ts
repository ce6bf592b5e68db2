/**
 * The control plane between a stream's worker and the coordinator: main-thread services a
 * worker calls through Comlink. Nothing on a hot path goes through here (heartbeats and
 * progress are shared-memory stores), so the channel is opened lazily: only a stream that
 * calls a service pays for a `MessageChannel`. The worker posts one end to the coordinator
 * through its `parentPort` (Piscina forwards such messages as the pool's 'message' event).
 */
import { MessageChannel, parentPort, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';

/** Services the coordinator offers a running stream. */
export interface MainServices {
  /** Keeps the latest heartbeat details of the stream (handed to a restarted attempt). */
  recordDetails(details: unknown): void;
  /** Holds `path`'s lock file for thread `holder` (the main thread refreshes it); true: its previous holder process died. */
  acquireProcessLock(path: string, holder: number, timeoutMs: number): Promise<boolean>;
  /** Drops one hold of `path`'s lock file by thread `holder`. */
  releaseProcessLock(path: string, holder: number): Promise<void>;
}

/** Which stream attempt a services channel belongs to. */
export interface ServicesAddress {
  readonly run: number;
  readonly index: number;
  readonly attempt: number;
}

const SERVICES_REQUEST = 'tributary:services';

/** The message a worker posts to open its services channel. */
export interface ServicesRequest {
  readonly [SERVICES_REQUEST]: ServicesAddress;
  readonly port: MessagePort;
}

/** Whether a pool 'message' is a services request. */
export function isServicesRequest(message: unknown): message is ServicesRequest {
  return typeof message === 'object' && message !== null && SERVICES_REQUEST in message;
}

/** The address of a services request. */
export function addressOf(request: ServicesRequest): ServicesAddress {
  return request[SERVICES_REQUEST];
}

// Node's MessagePort implements the EventTarget side of Comlink's Endpoint (addEventListener,
// removeEventListener, start), so no adapter is needed.
function endpoint(port: MessagePort): Comlink.Endpoint {
  return port as unknown as Comlink.Endpoint;
}

/** Serves `services` on `port` (main thread). */
export function serve(services: MainServices, port: MessagePort): void {
  Comlink.expose(services, endpoint(port));
}

/** A worker's lazily opened connection to its coordinator's services. */
export class ServicesConnection {
  readonly #address: ServicesAddress;
  #port: MessagePort | undefined;
  #remote: Comlink.Remote<MainServices> | undefined;

  constructor(address: ServicesAddress) {
    this.#address = address;
  }

  /** The services proxy, opening the channel on first use. */
  get remote(): Comlink.Remote<MainServices> {
    if (this.#remote === undefined) {
      const { port1, port2 } = new MessageChannel();
      const request: ServicesRequest = { [SERVICES_REQUEST]: this.#address, port: port2 };
      parentPort!.postMessage(request, [port2]);
      this.#port = port1;
      this.#remote = Comlink.wrap<MainServices>(endpoint(port1));
    }
    return this.#remote;
  }

  /** Closes the channel if it was opened. */
  close(): void {
    this.#port?.close();
  }
}
