// The project's sync primitives, each beside its raw baseline in the same round (dogfood: a
// figure bench of the shipped API). Gated: the figures a regression in our own code moves and
// a busy machine does not. Contended figures between two workers on two cores are noisier,
// so they tolerate more; semaphore.uncontended is bimodal (10-12x or 15-16x a bare futex
// with no code change: the robust holder table's ~235 ns), so 65% (a doubling still fails).
import { defineBench } from '@tributary/bench';
import { primitives } from '../dist/suites/primitives.js';

export default defineBench({
  name: 'primitives',
  measure: (ctx) => primitives.run(ctx),
  gate: {
    'mutex.uncontended': 0.2,
    'semaphore.uncontended': 0.65,
    'mutex.contended': 0.5,
    'barrier.round': 0.6,
  },
});
