/**
 * The control plane between a stream's worker and the coordinator: main-thread services a
 * worker calls through Comlink over a `MessagePort` handed to each task. Nothing on a hot path
 * goes through here; heartbeats and progress are shared-memory stores.
 */
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';

/** Services the coordinator offers a running stream. */
export interface MainServices {
  /** Keeps the latest heartbeat details of stream `index` (handed to a restarted attempt). */
  recordDetails(index: number, details: unknown): void;
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

/** A proxy of the services behind `port` (worker). */
export function connect(port: MessagePort): Comlink.Remote<MainServices> {
  return Comlink.wrap<MainServices>(endpoint(port));
}
