/**
 * The control plane between a stream's worker and the coordinator: main-thread services a
 * worker calls through Comlink. Nothing on a hot path goes through here (heartbeats and
 * progress are shared-memory stores), so the channel is opened lazily: only a stream that
 * calls a service pays for a `MessageChannel`. The worker posts one end to the coordinator
 * through its `parentPort` (Piscina forwards such messages as the pool's 'message' event).
 */
import { MessageChannel, parentPort, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import type { ProcessLocks } from '../fs/process-locks.js';

/** Services the coordinator offers a running stream. */
export interface MainServices {
  /** Keeps the latest heartbeat details of the stream (handed to a restarted attempt). */
  recordDetails(details: unknown): void;
  /** The process-level file locks, held by the main thread (it refreshes them); passed through as they are. */
  readonly processLocks: ProcessLocks;
}

/**
 * {@link MainServices} as a worker calls them: every call crosses the channel, so each returns
 * a promise. Spelled out rather than `Comlink.Remote<MainServices>` so the published
 * declarations do not import Comlink, whose types need the DOM lib (`Transferable`,
 * `EventListenerOrEventListenerObject`) that a Node consumer does not load.
 */
export interface RemoteServices {
  recordDetails(details: unknown): Promise<void>;
  /** Each call on it is one remote call (Comlink resolves the property path on the main thread). */
  readonly processLocks: ProcessLocks;
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

/**
 * Serves a worker's services request (main thread): `find` gives the services of the attempt
 * it names, or undefined when that attempt is over (its port is closed). Served ports join
 * `ports`, which the run closes when it ends.
 */
export function serve(request: ServicesRequest, find: (address: ServicesAddress) => MainServices | undefined, ports: Set<MessagePort>): void {
  const services = find(addressOf(request));
  if (services === undefined) {
    request.port.close();
    return;
  }
  ports.add(request.port);
  Comlink.expose(services, endpoint(request.port));
}

/** A worker's lazily opened connection to its coordinator's services. */
export class ServicesConnection {
  readonly #address: ServicesAddress;
  #port: MessagePort | undefined;
  #remote: RemoteServices | undefined;

  constructor(address: ServicesAddress) {
    this.#address = address;
  }

  /** The services proxy, opening the channel on first use. */
  get remote(): RemoteServices {
    if (this.#remote === undefined) {
      const { port1, port2 } = new MessageChannel();
      const request: ServicesRequest = { [SERVICES_REQUEST]: this.#address, port: port2 };
      parentPort!.postMessage(request, [port2]);
      this.#port = port1;
      // Comlink types a nested object as a promise of it; a call through it is one remote call.
      this.#remote = Comlink.wrap<MainServices>(endpoint(port1)) as unknown as RemoteServices;
    }
    return this.#remote;
  }

  /** Closes the channel if it was opened; returns whether it was. */
  close(): boolean {
    this.#port?.close();
    return this.#port !== undefined;
  }
}
