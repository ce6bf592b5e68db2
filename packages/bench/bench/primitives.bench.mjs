// The project's sync primitives, each beside its raw baseline in the same round (dogfood: a
// figure bench of the shipped API).
//
// Gated everywhere: uncontended Mutex lock+unlock, whose ratio to a bare futex holds on a
// busy machine (1.12-1.13x idle and with two CPU hogs). Gated only on a dedicated machine
// (TRIBUTARY_BENCH_DEDICATED=1): figures whose ratio the machine's other load moves by itself,
// so a same-run ratio cannot cancel it. With two CPU hogs on this 2-core box the robust
// Semaphore went from ~11x to ~27x a bare futex (its ~30 atomic operations per acquire+release
// slow down more than the futex's two when the other hardware thread is busy), and the
// two-worker Barrier from ~1.4x to ~2.5x (it spins before parking, and spinning loses its
// timeslice to the hogs); the contended Mutex between two workers moved 1.1x -> 1.6x.
import { defineBench } from '@tributary/bench';
import { primitives } from '../dist/suites/primitives.js';

const dedicated = process.env.TRIBUTARY_BENCH_DEDICATED === '1';

export default defineBench({
  name: 'primitives',
  measure: (ctx) => primitives.run(ctx),
  gate: {
    'mutex.uncontended': 0.2,
    ...(dedicated ? { 'semaphore.uncontended': 0.65, 'mutex.contended': 0.5, 'barrier.round': 0.6 } : {}),
  },
});
