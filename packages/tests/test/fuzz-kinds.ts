/**
 * The fuzz test's vocabulary: the kinds of value thrown at every parameter, and parameter
 * descriptions that say which of them a parameter must accept (the rest must be refused with a
 * TributaryError: taking them silently is a finding too).
 */

/** One kind of value, made fresh for every call. */
export interface Kind {
  readonly label: string;
  readonly make: () => unknown;
  /** Neither sensible nor nonsense (it may be taken or refused): only raw errors and hangs count. */
  readonly neutral?: boolean;
}

/** The value kinds of issue 12 item 8. */
export const KINDS: readonly Kind[] = [
  { label: 'undefined', make: () => undefined },
  { label: 'null', make: () => null },
  { label: 'NaN', make: () => NaN },
  { label: 'Infinity', make: () => Infinity },
  { label: '-Infinity', make: () => -Infinity },
  { label: '-1', make: () => -1 },
  { label: '0.5', make: () => 0.5 },
  { label: '300 (a bare number)', make: () => 300 },
  { label: '2**31', make: () => 2 ** 31 },
  { label: '2**53', make: () => 2 ** 53 },
  { label: '10n', make: () => 10n },
  { label: "''", make: () => '' },
  { label: "'x'", make: () => 'x' },
  { label: '[]', make: () => [] },
  { label: '{}', make: () => ({}) },
  { label: 'true', make: () => true },
  { label: 'a function', make: () => () => undefined },
  { label: 'a Symbol', make: () => Symbol('fuzz') },
];

/** Kinds for options that take a `timeoutMs`: past the longest timer Node keeps, or negative. */
const BAD_TIMEOUTS: readonly Kind[] = [
  { label: '{ timeoutMs: 2**31 }', make: () => ({ timeoutMs: 2 ** 31 }) },
  { label: '{ timeoutMs: -1 }', make: () => ({ timeoutMs: -1 }) },
  { label: '{ timeoutMs: NaN }', make: () => ({ timeoutMs: NaN }) },
  { label: '{ signal: 1 }', make: () => ({ signal: 1 }) },
];

/** A parameter: a value that works (used while another parameter is fuzzed) and what it accepts. */
export interface Param {
  readonly name: string;
  readonly valid: () => unknown;
  /** Whether `value` is sensible here: true must not be refused for shape, false must be refused. */
  readonly accepts: (value: unknown) => boolean;
  /** Kinds only this parameter gets (damaged handles). */
  readonly extra?: () => readonly Kind[];
}

const isEmptyObject = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;

/** Objects with one bad member each (`{ member: value }` merged into the valid options). */
export function badMembers(valid: () => unknown, members: Readonly<Record<string, unknown>>): readonly Kind[] {
  return Object.entries(members).map(([member, value]) => ({
    label: `{ ${member}: ${typeof value === 'number' ? value : String(value)} }`,
    make: () => ({ ...(valid() as object), [member]: value }),
  }));
}

/**
 * An options bag: undefined or an object (the fuzz kinds' only sensible one is `{}`), plus
 * `bad` members that must each be refused (durations past 2**31-1 ms, ...).
 */
export function options(name = 'options', valid: () => unknown = () => undefined, bad: Readonly<Record<string, unknown>> = {}): Param {
  return { name, valid, accepts: (v) => v === undefined || isEmptyObject(v), extra: () => badMembers(valid, bad) };
}

/** Wait options: also refuses a timeout past 2**31-1 ms, below 0 or NaN, and a non-signal. */
export function waitOptions(valid: () => unknown = () => ({ timeoutMs: 200 })): Param {
  return { name: 'options', valid, accepts: (v) => v === undefined || isEmptyObject(v), extra: () => BAD_TIMEOUTS };
}

/** An integer in [min, max] (undefined too when it has a default). */
export function int(name: string, min: number, max: number, valid: number, optional = false): Param {
  return {
    name,
    valid: () => valid,
    accepts: (v) => (optional && v === undefined) || (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max),
  };
}

/** A non-empty string. */
export function str(name: string, valid = 'x', optional = false): Param {
  return { name, valid: () => valid, accepts: (v) => (optional && v === undefined) || (typeof v === 'string' && v.length > 0) };
}

/** A 64-bit integer: a BigInt or a safe integer number. */
export function int64(name: string, optional = false): Param {
  return {
    name,
    valid: () => 1n,
    accepts: (v) => (optional && v === undefined) || typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v)),
  };
}

/** A function (or undefined where it has a default). */
export function fn(name: string, valid: () => unknown, optional = false): Param {
  return { name, valid, accepts: (v) => (optional && v === undefined) || typeof v === 'function' };
}

/** Anything goes (a payload): only raw errors and hangs are findings. */
export function anything(name: string, valid: () => unknown): Param {
  return { name, valid, accepts: () => true };
}

/** Only values `valid` made (a real object of some kind): every fuzz kind must be refused. */
export function only(name: string, valid: () => unknown, bad: Readonly<Record<string, unknown>> = {}): Param {
  const made = new WeakSet<object>();
  return {
    name,
    valid: () => {
      const v = valid();
      if (typeof v === 'object' && v !== null) made.add(v);
      return v;
    },
    accepts: (v) => typeof v === 'object' && v !== null && made.has(v),
    extra: () => badMembers(valid, bad),
  };
}

/**
 * A primitive's handle: a real one is made by `fresh`; besides the common kinds it gets damaged
 * copies (truncated or plain buffer, misaligned, NaN/negative/huge offsets).
 */
export function handle(fresh: () => { readonly handle: object }): Param {
  const base = only('handle', () => fresh().handle);
  const damaged = (label: string, change: (h: Record<string, unknown>) => Record<string, unknown>): Kind => ({
    label,
    make: () => change({ ...(fresh().handle as Record<string, unknown>) }),
  });
  return {
    ...base,
    extra: () => [
      damaged('handle with a 2-byte buffer', (h) => ({ ...h, buffer: new SharedArrayBuffer(2) })),
      // Other memory, but room enough for the small primitives: taken or refused, never a raw RangeError.
      { ...damaged('handle with a 16-byte buffer', (h) => ({ ...h, buffer: new SharedArrayBuffer(16) })), neutral: true },
      damaged('handle with a plain ArrayBuffer', (h) => ({ ...h, buffer: new ArrayBuffer(64) })),
      damaged('handle at byteOffset 3', (h) => ({ ...h, byteOffset: 3 })),
      damaged('handle at byteOffset NaN', (h) => ({ ...h, byteOffset: NaN })),
      damaged('handle at byteOffset -8', (h) => ({ ...h, byteOffset: -8 })),
      damaged('handle at byteOffset 2**40', (h) => ({ ...h, byteOffset: 2 ** 40 })),
      damaged('handle of another kind', (h) => ({ ...h, kind: 'Nonsense' })),
    ],
  };
}
