import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLabels, parseLabels } from '../../src/analysis/eval/labels.js';
import { InputError } from '../../src/errors.js';
import { sharedLabels, sharedRecord as record } from '../helpers/labels.js';
import { tempDir } from '../helpers/tmp-dir.js';


const shared = sharedLabels;

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('labels: the shared records format', () => {
  it('maps its keys to attractor names, with onsets, end state and notes', () => {
    const set = parseLabels(shared([record('sub/a.txt', { bliss: true, bliss_onset_turn: 7, emoji_dominant: true, emoji_onset_turn: 3, celebration_ending: true, end_state: 'spiritual_bliss' })]), 'l.json');
    expect(set.format).toBe('records-json');
    const [r] = set.records;
    expect(r!.ref).toBe('sub/a.txt');
    expect(r!.where).toBe('record 0');
    expect(r!.endState).toBe('spiritual_bliss');
    expect(r!.turns).toBe(10);
    expect(Object.fromEntries(r!.labels)).toEqual({
      spiritual_bliss: { present: true, onsetTurn: 7 },
      repetition_loop: { present: false, onsetTurn: null },
      farewell_loop: { present: false, onsetTurn: null },
      emoji_collapse: { present: true, onsetTurn: 3 },
      silence: { present: false, onsetTurn: null },
      wedding_party: { present: true, onsetTurn: null },
    });
  });

  it('--min-confidence leaves out records below it and counts them', () => {
    const text = shared([record('a.txt', { confidence: 'low' }), record('b.txt', { confidence: 'medium' }), record('c.txt', { confidence: 'high' })]);
    expect(parseLabels(text, 'l.json', 'low').records.map((r) => r.ref)).toEqual(['a.txt', 'b.txt', 'c.txt']);
    const medium = parseLabels(text, 'l.json', 'medium');
    expect(medium.records.map((r) => r.ref)).toEqual(['b.txt', 'c.txt']);
    expect(medium.belowConfidence).toBe(1);
    expect(parseLabels(text, 'l.json', 'high').records.map((r) => r.ref)).toEqual(['c.txt']);
  });

  it('a bad record is one line naming the file, the record index and the problem', () => {
    const text = shared([record('a.txt'), record('b.txt', { silence: 'yes' })]);
    expect(errorOf(() => parseLabels(text, 'labels.json'))).toBe('labels.json: records[1].silence: expected boolean, got string "yes"');
    expect(errorOf(() => parseLabels(shared([record('a.txt', { confidence: 'sure' })]), 'labels.json'))).toMatch(/^labels\.json: records\[0\]\.confidence: /);
    expect(errorOf(() => parseLabels(shared([record('a.txt', { bliss_onset_turn: 4 })]), 'labels.json'))).toBe(
      'labels.json: records[0].bliss_onset_turn: an onset turn for an attractor labelled absent (bliss: false)',
    );
    expect(errorOf(() => parseLabels(shared([record('a.txt'), record('a.txt')]), 'labels.json'))).toBe("labels.json: records[1].source: 'a.txt' is labelled already by records[0]");
    expect(errorOf(() => parseLabels(shared([{ source: 'a.txt', end_state: 'other' }]), 'labels.json'))).toMatch(/^labels\.json: records\[0\]: no attractor labelled/);
    expect(errorOf(() => parseLabels(JSON.stringify({ records: 3 }), 'labels.json'))).toMatch(/^labels\.json: records: /);
  });
});

describe('labels: JSONL', () => {
  it('groups lines by run; attractors a run does not name are not labelled for it', () => {
    const text = [
      { run: 'run-a', attractor: 'repetition_loop', present: true, onsetTurn: 4, notes: 'loops' },
      { run: 'run-a', attractor: 'silence', present: false },
      {},
      { run: 'runs/b', attractor: 'spiritual_bliss', present: true, onsetTurn: null, endState: 'spiritual_bliss' },
    ]
      .map((l) => (Object.keys(l).length ? JSON.stringify(l) : ''))
      .join('\n');
    const set = parseLabels(text, 'l.jsonl');
    expect(set.format).toBe('jsonl');
    expect(set.records.map((r) => [r.ref, r.where, Object.fromEntries(r.labels), r.endState])).toEqual([
      ['run-a', 'line 1', { repetition_loop: { present: true, onsetTurn: 4, notes: 'loops' }, silence: { present: false, onsetTurn: null } }, undefined],
      ['runs/b', 'line 4', { spiritual_bliss: { present: true, onsetTurn: null } }, 'spiritual_bliss'],
    ]);
  });

  it('lines without confidence count as high; lower ones are left out by --min-confidence', () => {
    const text = [
      { run: 'a', attractor: 'silence', present: true, onsetTurn: 2, confidence: 'low' },
      { run: 'a', attractor: 'repetition_loop', present: false },
      { run: 'b', attractor: 'silence', present: false, confidence: 'medium' },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n');
    const set = parseLabels(text, 'l.jsonl', 'medium');
    expect(set.belowConfidence).toBe(1);
    expect(set.records.map((r) => [r.ref, [...r.labels.keys()]])).toEqual([
      ['a', ['repetition_loop']],
      ['b', ['silence']],
    ]);
    expect(parseLabels(text, 'l.jsonl', 'high').records.map((r) => r.ref)).toEqual(['a']);
  });

  it('a bad line is one line naming the file, the line number and the problem', () => {
    const ok = JSON.stringify({ run: 'a', attractor: 'silence', present: true, onsetTurn: 3 });
    expect(errorOf(() => parseLabels(`${ok}\n{"run": "b", "attractor": "silence"}`, 'l.jsonl'))).toBe('l.jsonl:2: present: missing (expected boolean)');
    expect(errorOf(() => parseLabels(`${ok}\nnot json`, 'l.jsonl'))).toMatch(/^l\.jsonl:2: not valid JSON/);
    expect(errorOf(() => parseLabels(`${ok}\n${JSON.stringify({ run: 'b', attractor: 'silence', present: true, onset: 3 })}`, 'l.jsonl'))).toBe("l.jsonl:2: onset: unknown key 'onset'");
    expect(errorOf(() => parseLabels(`${ok}\n${JSON.stringify({ run: 'b', attractor: 'silence', present: true, onsetTurn: 0 })}`, 'l.jsonl'))).toMatch(/^l\.jsonl:2: onsetTurn: /);
    expect(errorOf(() => parseLabels(`${ok}\n${ok}`, 'l.jsonl'))).toBe("l.jsonl:2: silence of 'a' is labelled already on line 1");
    expect(errorOf(() => parseLabels(JSON.stringify({ run: 'b', attractor: 'silence', present: false, onsetTurn: 5 }), 'l.jsonl'))).toMatch(/^l\.jsonl:1: onsetTurn: an onset turn for an attractor labelled absent/);
    expect(errorOf(() => parseLabels('\n\n', 'l.jsonl'))).toMatch(/^l\.jsonl: no labels/);
    for (const message of [errorOf(() => parseLabels(`${ok}\nnot json`, 'l.jsonl'))]) expect(message).not.toContain('\n');
  });

  it('a missing file is bad input naming it', async (ctx) => {
    const dir = tempDir(ctx);
    await expect(loadLabels(join(dir, 'nope.jsonl'))).rejects.toThrow(`${join(dir, 'nope.jsonl')}: no such labels file`);
    const file = join(dir, 'l.jsonl');
    writeFileSync(file, JSON.stringify({ run: 'a', attractor: 'silence', present: true }));
    expect((await loadLabels(file)).records).toHaveLength(1);
  });
});
