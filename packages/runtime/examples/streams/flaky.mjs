// `stuck`: hangs (stops beating) on its first attempt, then succeeds; `broken`: throws.
export default function flaky({ mode }, ctx) {
  ctx.heartbeat({ mode });
  if (mode === 'broken') throw new Error('this stream always fails');
  if (mode === 'stuck' && ctx.attempt === 1) for (;;) Math.sqrt(Math.random());
  return `done on attempt ${ctx.attempt}`;
}
