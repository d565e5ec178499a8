import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { columns, fitLine, fitTo, textWidth } from '../src/text-width.js';
import { rowsAsTable } from '../src/mining/sql/format-rows.js';
import { ProgressLine } from '../src/batch/progress.js';

/** The display column at which each cell after the first begins, found from the text itself. */
function cellStarts(line: string, cells: readonly string[]): number[] {
  const starts: number[] = [];
  let from = 0;
  for (const [i, cell] of cells.entries()) {
    const at = line.indexOf(cell, from);
    expect(at, `cell ${JSON.stringify(cell)} in ${JSON.stringify(line)}`).toBeGreaterThanOrEqual(0);
    if (i > 0) starts.push(textWidth(line.slice(0, at)));
    from = at + cell.length;
  }
  return starts;
}

const ROWS = [
  ['emoji', 'avg uses per transcript', 'transcripts using it'],
  ['🌀', '12.5', '80.0%'],
  ['👨‍👩‍👧', '3.0', '10.0%'],
  ['🇯🇵', '2.5', '5.0%'],
  ['🏳️‍🌈', '1.0', '5.0%'],
  ['🙏🏽', '1.0', '5.0%'],
  ['✨✨', '0.5', '2.5%'],
  ['意識', '7.0', '40.0%'],
  ['共に在る', '4.0', '20.0%'],
  ['plain', '1.0', '1.0%'],
];

describe('terminal tables measured by display width', () => {
  it('emoji (ZWJ sequences, flags, skin tones) and CJK cells take two columns each, and the columns line up', () => {
    expect(textWidth('👨‍👩‍👧')).toBe(2);
    expect(textWidth('🇯🇵')).toBe(2);
    expect(textWidth('🏳️‍🌈')).toBe(2);
    expect(textWidth('共に在る')).toBe(8);
    expect(textWidth('e\u0301')).toBe(1);
    const lines = columns(ROWS);
    const starts = lines.map((line, i) => cellStarts(line, ROWS[i]!));
    // 'avg uses per transcript' starts after the widest first cell (共に在る, 8 columns) and two spaces.
    for (const s of starts) expect(s).toEqual([10, 35]);
  });

  it('right-aligned number columns end in the same column', () => {
    const rows = [['attractor', 'runs'], ['🌀 spiral', '7'], ['婚礼', '120']];
    const lines = columns(rows, { right: [1], indent: '  ' });
    expect(lines.map((l) => textWidth(l))).toEqual([17, 17, 17]);
    expect(lines[2]).toBe('  婚礼        120');
  });

  it('a cell cut to fit never splits an emoji or a wide character, and stays within the width', () => {
    expect(fitTo('共に在る共に在る', 7)).toBe('共に在…');
    expect(fitTo('👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧', 5)).toBe('👨‍👩‍👧👨‍👩‍👧…');
    expect(fitTo('👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧', 4)).toBe('👨‍👩‍👧…');
    expect(fitTo('short', 10)).toBe('short');
    const table = rowsAsTable({ columns: ['word', 'n'], rows: [['共に在る'.repeat(20), 3], ['🌀', 12]] }, 12);
    const lines = table.trimEnd().split('\n');
    expect(lines[2]).toBe('共に在る共…  3');
    expect(lines[3]).toBe('🌀           12');
    expect(lines.slice(0, 4).map((l) => textWidth(l.split(/ {2,}/u)[0]!))).toEqual([4, 11, 11, 2]);
    expect(cellStarts(lines[2]!, ['共に在る共…', '3'])).toEqual(cellStarts(lines[3]!, ['🌀', '12']));
  });
});

describe('lines redrawn in place', () => {
  it('fit on one row of a narrow terminal, so a redraw leaves no wrapped piece behind; the final line is whole', () => {
    const term = Object.assign(new PassThrough(), { columns: 48 });
    let written = '';
    term.on('data', (d: Buffer) => (written += d.toString()));
    const progress = new ProgressLine(term, true);
    const snap = { planned: 40, done: 12, failed: 1, interrupted: 0, running: 4, skipped: 3, turns: 900, turnsPerSec: 52.34, costUsd: 1.234, etaSec: 250 };
    progress.update(snap);
    progress.update({ ...snap, done: 13 });
    const redraws = written.split('\r\x1b[2K').filter(Boolean);
    expect(redraws).toEqual(['[########............] 12/40 done · 4 running…', '[#########...........] 13/40 done · 4 running…']);
    for (const r of redraws) expect(textWidth(r)).toBeLessThan(48);
    progress.end();
    expect(written.endsWith('ETA 4m10s\n')).toBe(true);
    // A waiting line naming a CJK agent is cut by display width, not by characters.
    expect(fitLine('   … waiting for 共に在る: no answer after 12 s', Object.assign(new PassThrough(), { columns: 25 }))).toBe('   … waiting for 共に在…');
    expect(fitLine('no terminal, no cut', new PassThrough())).toBe('no terminal, no cut');
  });
});
