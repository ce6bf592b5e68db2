/** Shared command-line handling of the bench package's entry points. */
import { InvalidArgumentError } from '@tributary/runtime';
import { num, table } from './report.js';
import type { Comparison } from './types.js';

/** A positive integer option. */
export function positiveOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`--${name} must be a positive integer, got ${value}`);
  return n;
}

/** The comparisons as a terminal table. */
export function comparisonTable(rows: readonly Comparison[]): string {
  return table(
    ['figure', 'tributary', 'raw', 'unit', 'ratio', 'target'],
    rows.map((c) => [
      `${c.suite}: ${c.name}`,
      `${c.subject} ${num(c.subjectValue)}`,
      `${c.baseline} ${num(c.baselineValue)}`,
      c.unit,
      `${c.ratio.toFixed(2)}x`,
      c.target === undefined ? '' : `<= ${c.target}x ${c.ratio <= c.target ? 'ok' : 'MISSED'}`,
    ]),
  );
}
