// Shared-state workload: one immutable update adding 1 to the shared counter.
export default async function increment(_input, ctx) {
  const next = await ctx.state.createNewVersion((s) => ({ ...s, counter: (s.counter ?? 0) + 1 }), ctx.id);
  return next.version;
}
