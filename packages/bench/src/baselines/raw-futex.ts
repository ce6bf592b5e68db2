/**
 * The raw baseline for the Mutex: Drepper's three-state futex mutex ("Futexes Are Tricky",
 * mutex2) written inline with bare Atomics: no owner token, no guard object, no robustness,
 * no timeout. Tributary's Mutex is measured against it in the same run.
 */
const UNLOCKED = 0;
const LOCKED = 1;
const CONTENDED = 2;

/** Locks the futex word `view[index]`. */
export function rawLock(view: Int32Array, index: number): void {
  let c = Atomics.compareExchange(view, index, UNLOCKED, LOCKED);
  if (c === UNLOCKED) return;
  if (c !== CONTENDED) c = Atomics.exchange(view, index, CONTENDED);
  while (c !== UNLOCKED) {
    Atomics.wait(view, index, CONTENDED);
    c = Atomics.exchange(view, index, CONTENDED);
  }
}

/** Unlocks the futex word `view[index]`. */
export function rawUnlock(view: Int32Array, index: number): void {
  if (Atomics.sub(view, index, 1) !== LOCKED) {
    Atomics.store(view, index, UNLOCKED);
    Atomics.notify(view, index, 1);
  }
}
