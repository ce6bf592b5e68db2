/**
 * `--bmf FILE`: Bencher Metric Format, `{ benchmark: { measure: { value, lower_value,
 * upper_value } } }`. Wall times use Bencher's built-in `latency` measure (nanoseconds) with
 * the 95% CI as bounds; same-run ratios use the custom measures `speedup` and `vs-piscina`,
 * and a figure bench's figures the custom measure `ratio` (subject / baseline) per `bench/id`.
 */
import { isWorkload, type RunReport } from '../result.js';

/** A Bencher measure value. */
export interface BmfValue {
  readonly value: number;
  readonly lower_value?: number;
  readonly upper_value?: number;
}

/** The report in Bencher Metric Format. */
export function toBmf(report: RunReport): Record<string, Record<string, BmfValue>> {
  const out: Record<string, Record<string, BmfValue>> = {};
  const ns = (ms: number): number => Math.round(ms * 1e6);
  for (const b of report.benches) {
    if (!isWorkload(b)) {
      for (const f of b.figures) out[`${b.name}/${f.id}`] = { ratio: { value: f.ratio.median, lower_value: f.ratio.low, upper_value: f.ratio.high } };
      continue;
    }
    for (const t of b.threads) {
      for (const r of t.runners) {
        const measures: Record<string, BmfValue> = { latency: { value: ns(r.wallMs.median), lower_value: ns(r.wallMs.low), upper_value: ns(r.wallMs.high) } };
        if (r.speedup !== undefined) measures.speedup = { value: r.speedup };
        if (r.runner === 'tributary' && t.tributaryVsPiscina !== undefined) measures['vs-piscina'] = { value: t.tributaryVsPiscina };
        out[`${b.name}/${t.threads}t/${r.runner}`] = measures;
      }
    }
  }
  return out;
}
