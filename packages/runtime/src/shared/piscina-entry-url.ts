/** Where a Tributary Piscina pool's threads start: see `piscina-entry.cts` for why not the worker module itself. */

/** The `filename` for Piscina; the worker module's URL goes in `workerData.entry`. */
export const PISCINA_ENTRY = new URL('./piscina-entry.cjs', import.meta.url).href;
