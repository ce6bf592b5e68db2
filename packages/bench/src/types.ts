/** Shared types of the bench package: what a suite measures and how it is reported. */

/** One figure: a Tributary operation timed against its raw baseline in the same run. */
export interface Comparison {
  /** Suite that produced it. */
  readonly suite: string;
  /** Stable id used by the regression gate, e.g. `mutex.uncontended`. */
  readonly id: string;
  /** What was measured, for people. */
  readonly name: string;
  /** The Tributary side. */
  readonly subject: string;
  /** The raw side. */
  readonly baseline: string;
  /** Median cost of one subject operation, in the unit below. */
  readonly subjectValue: number;
  /** Median cost of one baseline operation. */
  readonly baselineValue: number;
  /** `ns/op` for micro-operations, `ms` for whole runs. */
  readonly unit: 'ns/op' | 'ms';
  /** subject / baseline: 1 means as fast as raw; lower is better. */
  readonly ratio: number;
  /** The highest ratio the project accepts, if it set one. */
  readonly target?: number;
}

/** What a suite gets from the runner. */
export interface SuiteContext {
  /** Milliseconds tinybench samples each task for. */
  readonly timeMs: number;
  /** Logical cores of this machine. */
  readonly cores: number;
  /** Tells the progress display what is running now. */
  readonly progress: (step: string) => void;
}

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
