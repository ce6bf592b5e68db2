/**
 * `--gab FILE`: github-action-benchmark's `customSmallerIsBetter` tool input, an array of
 * `{ name, unit, value, range?, extra? }`. Only smaller-is-better figures fit it: wall
 * times, Tributary / raw Piscina, and a figure bench's subject / baseline ratios.
 */
import { isWorkload, RUNNER_LABEL, type RunReport } from '../result.js';

/** One github-action-benchmark entry. */
export interface GabEntry {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly range?: string;
  readonly extra?: string;
}

/** The report as `customSmallerIsBetter` entries. */
export function toGab(report: RunReport): GabEntry[] {
  const out: GabEntry[] = [];
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  for (const b of report.benches) {
    if (!isWorkload(b)) {
      for (const f of b.figures) out.push({ name: `${b.name} ${f.id} ${f.subject} / ${f.baseline}`, unit: 'ratio', value: round(f.ratio.median), extra: f.name });
      continue;
    }
    for (const t of b.threads) {
      for (const r of t.runners) {
        out.push({
          name: `${b.name} ${t.threads} thread(s) ${RUNNER_LABEL[r.runner]} wall`,
          unit: 'ms',
          value: round(r.wallMs.median),
          range: `${round(r.wallMs.low)}..${round(r.wallMs.high)} (95% CI)`,
          extra: `${r.samples.length} rounds`,
        });
      }
      if (t.tributaryVsPiscina !== undefined) {
        out.push({ name: `${b.name} ${t.threads} thread(s) Tributary / raw Piscina`, unit: 'ratio', value: round(t.tributaryVsPiscina) });
      }
    }
  }
  return out;
}
