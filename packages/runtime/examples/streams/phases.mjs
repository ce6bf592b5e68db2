// Two phases of work with a meeting of all streams in between: nobody starts phase 2 before
// everyone finished phase 1, and each sees what the others wrote in phase 1.
export default function phases({ slots, index, parties }, ctx) {
  const view = new Int32Array(slots);
  view[index] = index * 10; // phase 1 result
  ctx.barrier.wait({ timeoutMs: 10_000 });
  let sum = 0;
  for (let p = 0; p < parties; p++) sum += view[p]; // phase 2 reads every phase 1 result
  return sum;
}
