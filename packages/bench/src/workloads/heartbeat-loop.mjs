// A stream timing ctx.heartbeat() from inside a worker beside a bare Atomics.store of the
// time, in nanoseconds per operation. Plain JavaScript, loaded by the coordinator.

function nsPer(n, fn) {
  const t = process.hrtime.bigint();
  fn(n);
  return Number(process.hrtime.bigint() - t) / n;
}

/** ctx.heartbeat() against a bare Atomics.store of the time. */
export default function heartbeat({ n }, ctx) {
  const view = new Int32Array(new SharedArrayBuffer(4));
  const epoch = Date.now();
  const bare = (k) => { for (let i = 0; i < k; i++) Atomics.store(view, 0, Date.now() - epoch + 1); };
  const beat = (k) => { for (let i = 0; i < k; i++) ctx.heartbeat(); };
  bare(n);
  beat(n);
  return { subject: nsPer(n, beat), baseline: nsPer(n, bare) };
}
