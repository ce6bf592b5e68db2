/**
 * `--svg FILE`: speedup over sequential against thread count, one polyline per runner plus
 * the ideal (speedup = threads) line, one chart per bench stacked vertically. Hand-written
 * SVG: a few elements need no charting library.
 */
import { isWorkload, RUNNER_LABEL, type RunnerName, type RunReport, type WorkloadResult } from '../result.js';

const W = 560;
const H = 320;
const M = { left: 56, right: 140, top: 36, bottom: 44 };
const COLOURS: Record<RunnerName, string> = { sequential: '#888888', piscina: '#1f77b4', tributary: '#d62728' };

/** The report's speedup charts (workload benches; figure benches have no thread axis) as one SVG document. */
export function toSvg(report: RunReport): string {
  const charts = report.benches.filter(isWorkload).map((b, i) => chart(b, i * H));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H * Math.max(1, charts.length)}" font-family="sans-serif" font-size="12">`,
    ...charts,
    '</svg>',
    '',
  ].join('\n');
}

function chart(b: WorkloadResult, y0: number): string {
  const threads = b.threads.map((t) => t.threads);
  const maxT = Math.max(...threads, 1);
  const runners = [...new Set(b.threads.flatMap((t) => t.runners.map((r) => r.runner)))];
  const speedup = (t: WorkloadResult['threads'][number], r: RunnerName): number | undefined =>
    r === 'sequential' ? 1 : t.runners.find((x) => x.runner === r)?.speedup;
  const maxS = Math.max(maxT, ...b.threads.flatMap((t) => runners.map((r) => speedup(t, r) ?? 0)));
  const x = (t: number): number => M.left + ((t - Math.min(...threads, 1)) / Math.max(1, maxT - Math.min(...threads, 1))) * (W - M.left - M.right);
  const y = (s: number): number => y0 + H - M.bottom - (s / maxS) * (H - M.top - M.bottom);
  const f = (n: number): string => n.toFixed(1);
  const out = [`<g class="chart" data-bench="${escape(b.name)}">`, `<text x="${M.left}" y="${y0 + 20}" font-weight="bold">${escape(b.name)}: speedup over sequential</text>`];
  out.push(`<line x1="${M.left}" y1="${f(y(0))}" x2="${W - M.right}" y2="${f(y(0))}" stroke="black"/>`, `<line x1="${M.left}" y1="${f(y(0))}" x2="${M.left}" y2="${f(y(maxS))}" stroke="black"/>`);
  for (const t of threads) out.push(`<text x="${f(x(t))}" y="${f(y(0) + 16)}" text-anchor="middle">${t}</text>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${f(y(0) + 34)}" text-anchor="middle">threads</text>`);
  for (let s = 0; s <= Math.ceil(maxS); s++) out.push(`<text x="${M.left - 8}" y="${f(y(s) + 4)}" text-anchor="end">${s}x</text>`);
  const legend = (i: number, colour: string, label: string, dash = ''): string =>
    `<line x1="${W - M.right + 10}" y1="${y0 + M.top + 16 * i}" x2="${W - M.right + 30}" y2="${y0 + M.top + 16 * i}" stroke="${colour}" stroke-width="2"${dash}/>` +
    `<text x="${W - M.right + 36}" y="${y0 + M.top + 16 * i + 4}">${escape(label)}</text>`;
  const dash = ' stroke-dasharray="4 4"';
  out.push(`<g class="ideal"><polyline fill="none" stroke="#2ca02c" stroke-width="1.5"${dash} points="${threads.map((t) => `${f(x(t))},${f(y(t))}`).join(' ')}"/>${legend(0, '#2ca02c', 'ideal', dash)}</g>`);
  runners.forEach((r, i) => {
    const points = b.threads.flatMap((t) => {
      const s = speedup(t, r);
      return s === undefined ? [] : [`${f(x(t.threads))},${f(y(s))}`];
    });
    out.push(`<g class="series" data-runner="${r}"><polyline fill="none" stroke="${COLOURS[r]}" stroke-width="2" points="${points.join(' ')}"/>${legend(i + 1, COLOURS[r], RUNNER_LABEL[r])}</g>`);
  });
  out.push('</g>');
  return out.join('\n');
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
