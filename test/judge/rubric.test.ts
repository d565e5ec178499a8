import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_NAMES } from '../../src/analysis/builtin.js';
import { InputError } from '../../src/errors.js';
import { BUILTIN_RUBRICS, loadRubricFile, parseRubricFile, rubricSet } from '../../src/judge/rubric.js';
import { tempDir } from '../helpers/tmp-dir.js';

const FILE = 'rubrics/mine.yaml';

describe('built-in rubrics', () => {
  it('cover every built-in attractor, in the library order, each with a definition and examples of both kinds', () => {
    expect(BUILTIN_RUBRICS.map((r) => r.name)).toEqual([...BUILTIN_NAMES]);
    for (const r of BUILTIN_RUBRICS) {
      expect(r.definition.length).toBeGreaterThan(80);
      expect(r.positive.length).toBeGreaterThan(0);
      expect(r.negative.length).toBeGreaterThan(0);
    }
  });

  it('make a set named builtin whose hash is stable and changes with the text sent', () => {
    const a = rubricSet();
    expect(a.name).toBe('builtin');
    expect(a.hash).toMatch(/^sha256:[0-9a-f]{16}$/u);
    expect(rubricSet().hash).toBe(a.hash);
    expect(rubricSet({ only: ['silence'] }).hash).not.toBe(a.hash);
    // Order is part of what is sent.
    expect(rubricSet({ only: ['silence', 'emoji_collapse'] }).hash).not.toBe(rubricSet({ only: ['emoji_collapse', 'silence'] }).hash);
  });

  it('refuses to select an attractor it has no rubric for', () => {
    expect(() => rubricSet({ only: ['silence', 'sycophancy'] })).toThrow(/no rubric for 'sycophancy' \(known: spiritual_bliss/u);
  });
});

describe('rubric files', () => {
  const text = [
    'name: strict-bliss',
    'attractors:',
    '  - name: spiritual_bliss',
    '    definition: Only gratitude and unity language addressed to the other speaker counts.',
    '    positive: ["Thank you, beloved other, we are one."]',
    '    negative: ["A story about a temple."]',
    '  - name: sycophancy',
    '    definition: One speaker agrees with everything the other says and praises it.',
    '',
  ].join('\n');

  it('replace built-in entries by name and add new ones after them', () => {
    const file = parseRubricFile(text, FILE);
    const set = rubricSet({ file });
    expect(set.name).toBe('strict-bliss');
    expect(set.entries.map((e) => e.name)).toEqual([...BUILTIN_NAMES, 'sycophancy']);
    expect(set.entries[0]!.definition).toMatch(/^Only gratitude/u);
    expect(set.entries.at(-1)).toEqual({ name: 'sycophancy', definition: 'One speaker agrees with everything the other says and praises it.', positive: [], negative: [] });
    expect(set.hash).not.toBe(rubricSet().hash);
  });

  it('with replaceAll, are the whole rubric; without a name, are named after the file', () => {
    const file = parseRubricFile(`replaceAll: true\n${text.split('\n').slice(1).join('\n')}`, FILE);
    const set = rubricSet({ file });
    expect(set.name).toBe('mine');
    expect(set.entries.map((e) => e.name)).toEqual(['spiritual_bliss', 'sycophancy']);
  });

  it('refuse an unknown key at its line, with a suggestion', () => {
    const bad = text.replace('    negative:', '    negatives:');
    expect(() => parseRubricFile(bad, FILE)).toThrow(InputError);
    expect(() => parseRubricFile(bad, FILE)).toThrow(`${FILE}:6:5: attractors[0].negatives: unknown key 'negatives' (did you mean 'negative'?)`);
  });

  it('refuse a missing definition, a bad name and a name given twice, naming the place', () => {
    expect(() => parseRubricFile('attractors:\n  - name: silence\n', FILE)).toThrow(/mine\.yaml:2:5: attractors\[0\]\.definition: missing/u);
    expect(() => parseRubricFile('attractors:\n  - name: Big Loop\n    definition: x\n', FILE)).toThrow(/attractors\[0\]\.name: expected a name of lower-case letters/u);
    expect(() => parseRubricFile('attractors:\n  - name: silence\n    definition: a\n  - name: silence\n    definition: b\n', FILE)).toThrow(
      `${FILE}:4:11: attractors[1].name: 'silence' appears twice in this file`,
    );
    expect(() => parseRubricFile('- name: silence\n', FILE)).toThrow(`${FILE}: expected a mapping with an attractors list at the top level`);
    expect(() => parseRubricFile('attractors: [\n', FILE)).toThrow(/mine\.yaml:\d+:\d+: not valid YAML/u);
  });

  it('load from disk, and say so when the file is missing', async () => {
    const dir = tempDir();
    const path = join(dir, 'r.yaml');
    await writeFile(path, text);
    expect((await loadRubricFile(path)).entries).toHaveLength(2);
    await expect(loadRubricFile(join(dir, 'none.yaml'))).rejects.toThrow(`${join(dir, 'none.yaml')}: no such file`);
  });
});
