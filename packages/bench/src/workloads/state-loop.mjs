// A stream timing blocking ctx.state updates against a mutex-guarded increment, in ns per op.
import { Mutex } from '@tributary/runtime';

function nsPer(n, fn) {
  const t = process.hrtime.bigint();
  fn(n);
  return Number(process.hrtime.bigint() - t) / n;
}

export default function stateLoop({ n, mutex }, ctx) {
  const lock = Mutex.from(mutex);
  const word = new Int32Array(new SharedArrayBuffer(4));
  const bump = (s) => ({ ...s, counter: (s.counter ?? 0) + 1 });
  const update = (k) => { for (let i = 0; i < k; i++) ctx.state.createNewVersionSync(bump, ctx.id); };
  const locked = (k) => { for (let i = 0; i < k; i++) { const g = lock.lock(); word[0]++; g.unlock(); } };
  update(100);
  locked(100);
  return { subject: nsPer(n, update), baseline: nsPer(n, locked) };
}
