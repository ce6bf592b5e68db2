/** `--markdown FILE`: the run as GitHub-flavoured Markdown, e.g. for `$GITHUB_STEP_SUMMARY`. */
import { describeEnvironment } from '../env.js';
import type { RunReport } from '../result.js';
import { isWorkload } from '../result.js';
import { benchRows, FIGURE_HEADER, figureRows, HEADER, summary } from './terminal.js';

/** The report as Markdown: one table per bench, the environment fingerprint on top. */
export function toMarkdown(report: RunReport): string {
  const row = (cells: readonly string[]): string => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  const parts = [`# tributary-bench, ${report.date}`, '', `Measured on: ${describeEnvironment(report.environment)}.`, ''];
  for (const b of report.benches) {
    const [header, rows] = isWorkload(b) ? [HEADER, benchRows(b)] : [FIGURE_HEADER, figureRows(b)];
    parts.push(`## ${b.name}`, '', `${summary(b)}.`, '');
    parts.push(row(header), row(header.map(() => '---')), ...rows.map(row), '');
  }
  return parts.join('\n');
}
