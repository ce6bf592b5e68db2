/** Plain-text tables for the terminal. */

/** How wide a table may be before its last column wraps: fits a 100-column terminal. */
export const MAX_TABLE_WIDTH = 100;

/**
 * Formats rows as an aligned table with a header rule. When a row would be wider than
 * `maxWidth`, its last cell wraps at spaces onto continuation lines under its own column.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[], maxWidth = MAX_TABLE_WIDTH): string {
  const last = header.length - 1;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === last ? 0 : (r[i] ?? '').length))));
  const indent = widths.slice(0, last).reduce((s, w) => s + w + 2, 0);
  const room = Math.max(20, maxWidth - indent);
  widths[last] = Math.min(room, Math.max(header[last]!.length, ...rows.map((r) => (r[last] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const body = rows.flatMap((r) => {
    const [first, ...rest] = wrap(r[last] ?? '', room);
    return [line([...r.slice(0, last), first ?? '']), ...rest.map((more) => `${' '.repeat(indent)}${more}`)];
  });
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body].join('\n');
}

/** `text` broken at spaces into lines of at most `width` characters (longer words stay whole). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current !== '' && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  lines.push(current);
  return lines;
}

/** A number with three significant digits, or with thousands separators when large. */
export function num(value: number): string {
  return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : value.toPrecision(3);
}

/** A fraction as a percentage with one decimal. */
export function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
