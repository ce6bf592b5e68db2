/** Shared types of the bench package's own suites: what a suite measures and how it is reported. */
import type { Figure, MeasureContext } from './tool/define.js';

/** One figure of a suite: a Tributary operation timed against its raw baseline in the same run. */
export interface Comparison extends Figure {
  /** Suite that produced it. */
  readonly suite: string;
  /** `ns/op` for micro-operations, `ms` for whole runs. */
  readonly unit: 'ns/op' | 'ms';
  /** subject / baseline: 1 means as fast as raw; lower is better. */
  readonly ratio: number;
}

/** What a suite gets from the runner: a figure bench's measure context. */
export type SuiteContext = MeasureContext;

/** A named group of comparisons. */
export interface Suite {
  readonly name: string;
  readonly description: string;
  run(ctx: SuiteContext): Promise<Comparison[]>;
}

/** A comparison from its two medians. */
export function compare(
  fields: Omit<Comparison, 'ratio' | 'subjectValue' | 'baselineValue'>,
  subjectValue: number,
  baselineValue: number,
): Comparison {
  return { ...fields, subjectValue, baselineValue, ratio: subjectValue / baselineValue };
}
