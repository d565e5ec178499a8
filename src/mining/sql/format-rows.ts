import { columns, columnWidths, fitTo } from '../../text-width.js';

/** A query result as JSON-safe columns and rows. */
export interface Rows {
  columns: string[];
  rows: unknown[][];
}

const cellText = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Aligned text columns; long cells are cut so one chatty transcript does not push the table off screen. */
export function rowsAsTable(r: Rows, maxWidth = 60): string {
  const body = r.rows.map((row) => row.map((v) => fitTo(cellText(v).replace(/\s+/g, ' '), maxWidth)));
  const [head, ...lines] = columns([r.columns, ...body]);
  const rule = columnWidths([r.columns, ...body]).map((w) => '-'.repeat(w)).join('  ');
  return [head, rule, ...lines, `(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})`].join('\n') + '\n';
}

export function rowsAsCsv(r: Rows): string {
  const cell = (v: unknown) => {
    const s = cellText(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [r.columns.map(cell).join(','), ...r.rows.map((row) => row.map(cell).join(','))].join('\n') + '\n';
}
