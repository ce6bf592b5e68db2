/** `--markdown FILE`: the run as GitHub-flavoured Markdown, e.g. for `$GITHUB_STEP_SUMMARY`. */
import { describeEnvironment } from '../env.js';
import type { RunReport } from '../result.js';
import { benchRows, HEADER } from './terminal.js';

/** The report as Markdown: one table per bench, the environment fingerprint on top. */
export function toMarkdown(report: RunReport): string {
  const row = (cells: readonly string[]): string => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  const parts = [`# tributary-bench, ${report.date}`, '', `Measured on: ${describeEnvironment(report.environment)}.`, ''];
  for (const b of report.benches) {
    parts.push(`## ${b.name}`, '', `${b.inputs} streams of \`${b.task.split('/').pop()}\`; ${b.rounds} rotated rounds after ${b.warmup} warm-up; medians of the rounds.`, '');
    parts.push(row(HEADER), row(HEADER.map(() => '---')), ...benchRows(b).map(row), '');
  }
  return parts.join('\n');
}
