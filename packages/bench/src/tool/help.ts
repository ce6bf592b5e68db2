/** The CLI's help text. */
export const HELP = `tributary-bench: benchmark parallel workloads sequentially, on raw Piscina and
through Tributary in the same run, and gate regressions in CI.

Usage:
  tributary-bench run [files...] [options]
  tributary-bench check [files...] --baseline FILE [--update] [--absolute] [options]
  tributary-bench validate [--json]
  tributary-bench --help

A bench file's default export is defineBench(...) from '@tributary/bench': a workload
({ name, task, inputs, threads, baselines }) or your own figures ({ name, measure, gate }).
Files default to ./bench/*.bench.{mjs,js} and ./*.bench.{mjs,js}.

Options (run, check):
  --filter WORDS     only benches whose name contains one of the comma-separated words
  --rounds N         timed rounds per thread count (overrides the bench's own)
  --warmup N         untimed warm-up rounds (overrides the bench's own)
  --threads LIST     thread counts, e.g. 1,2,max (workload benches; overrides the bench's own)
  --time MS          ctx.timeMs given to a figure bench's measure (overrides its timeMs)
  --json FILE        full results, versioned schema with raw samples
  --bmf FILE         Bencher Metric Format
  --gab FILE         github-action-benchmark customSmallerIsBetter JSON
  --markdown FILE    Markdown tables (e.g. $GITHUB_STEP_SUMMARY)
  --svg FILE         chart of speedup against threads, per runner, with the ideal line

Options (check):
  --baseline FILE    the --json of an earlier run; written when missing
  --update           rewrite the baseline with this run
  --absolute         also gate absolute wall times (off by default: a busy machine fakes them)

check gates same-run ratios (speedup over sequential, Tributary / raw Piscina, a figure's
subject / baseline): a metric regresses when it is worse than the baseline past its
tolerance AND a Mann-Whitney U test on the per-round samples agrees; a bench with a
doubtful result is measured once more.

Exit status: 0 pass, 1 regression, 2 usage error or failed run.
`;
