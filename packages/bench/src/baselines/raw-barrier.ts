/**
 * The raw baseline for the Barrier: a bare generation barrier (count word + generation word)
 * for a fixed set of parties, with no breakage, timeout or reset.
 */
const COUNT = 0;
const GENERATION = 1;

/** Waits at the barrier in `view` (two Int32 words) for `parties` parties. */
export function rawBarrierWait(view: Int32Array, parties: number): void {
  const generation = Atomics.load(view, GENERATION);
  if (Atomics.add(view, COUNT, 1) + 1 === parties) {
    Atomics.store(view, COUNT, 0);
    Atomics.add(view, GENERATION, 1);
    Atomics.notify(view, GENERATION);
    return;
  }
  while (Atomics.load(view, GENERATION) === generation) Atomics.wait(view, GENERATION, generation);
}
