import stringWidth from 'string-width';

/**
 * Terminal columns `text` takes: emoji (ZWJ sequences and flags included) and CJK characters take two,
 * combining marks and ANSI colour codes none. Every table the CLI prints measures its cells with this,
 * never with `.length`.
 */
export function textWidth(text: string): number {
  // Plain ASCII, most cells, is its own width.
  return /^[\x20-\x7e]*$/u.test(text) ? text.length : stringWidth(text);
}

/** `text` followed by spaces up to `width` columns (unchanged when already as wide). */
export function padEndTo(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - textWidth(text)));
}

/** Spaces up to `width` columns, then `text`. */
export function padStartTo(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - textWidth(text))) + text;
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** `text` cut to at most `width` columns, ending in `…` when cut; never splits an emoji or a character. */
export function fitTo(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = textWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return `${out.trimEnd()}…`;
}

/** The display width of each column: that of its widest cell. */
export function columnWidths(rows: readonly (readonly string[])[]): number[] {
  const count = Math.max(0, ...rows.map((r) => r.length));
  return Array.from({ length: count }, (_, i) => Math.max(0, ...rows.map((r) => textWidth(r[i] ?? ''))));
}

/**
 * A line redrawn in place (`\r` then erase) must fit on one terminal row: a wrapped one leaves its first
 * row behind at every redraw. Cuts `line` to the stream's width when it is a terminal.
 */
export function fitLine(line: string, out: NodeJS.WritableStream): string {
  const width = 'columns' in out && typeof out.columns === 'number' && out.columns > 0 ? out.columns : undefined;
  return width === undefined ? line : fitTo(line, width - 1);
}

export interface ColumnsOptions {
  /** Right-aligned columns (numbers) by index; the others are left-aligned. */
  right?: readonly number[];
  /** Spaces between columns (2). */
  gap?: number;
  /** Put before every line. */
  indent?: string;
}

/**
 * Rows laid out in columns that line up on a terminal, each as wide as its widest cell in display
 * columns. Trailing spaces are trimmed.
 */
export function columns(rows: readonly (readonly string[])[], options: ColumnsOptions = {}): string[] {
  const widths = columnWidths(rows);
  const right = new Set(options.right ?? []);
  const gap = ' '.repeat(options.gap ?? 2);
  return rows.map(
    (r) => (options.indent ?? '') + widths.map((w, i) => (right.has(i) ? padStartTo(r[i] ?? '', w) : padEndTo(r[i] ?? '', w))).join(gap).trimEnd(),
  );
}
