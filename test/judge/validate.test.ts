import { describe, expect, it } from 'vitest';
import { answerSchema, judgePrompt, renderWindow } from '../../src/judge/prompt.js';
import { rubricSet } from '../../src/judge/rubric.js';
import { validateAnswer } from '../../src/judge/validate.js';

const rubric = rubricSet({ only: ['repetition_loop', 'farewell_loop'] });
const window = [11, 20] as const;
const loop = { name: 'repetition_loop', present: true, onsetTurn: 14, confidence: 0.8, evidence: 'Option A, Option B' };
const bye = { name: 'farewell_loop', present: false, onsetTurn: null, confidence: 0.6, evidence: '' };

describe('validateAnswer', () => {
  it('returns verdicts in the rubric order, whatever order the judge answered in', () => {
    const r = validateAnswer({ attractors: [bye, loop] }, rubric, window);
    expect(r).toEqual({
      ok: true,
      verdicts: [
        { attractor: 'repetition_loop', present: true, onsetTurn: 14, confidence: 0.8, evidence: 'Option A, Option B' },
        { attractor: 'farewell_loop', present: false, onsetTurn: null, confidence: 0.6, evidence: '' },
      ],
    });
  });

  it.each([
    ['an onset outside the window', { attractors: [{ ...loop, onsetTurn: 10 }, bye] }, /onsetTurn: 10 is outside the window \(turns 11 to 20\)/u],
    ['an onset for an absent attractor', { attractors: [loop, { ...bye, onsetTurn: 12 }] }, /'farewell_loop' is absent but has an onset turn/u],
    ['a confidence above 1', { attractors: [{ ...loop, confidence: 1.5 }, bye] }, /attractors\[0\]\.confidence/u],
    ['an attractor answered twice', { attractors: [loop, loop, bye] }, /'repetition_loop' is answered twice/u],
    ['an attractor missing', { attractors: [loop] }, /no answer for 'farewell_loop'/u],
    ['an attractor not in the rubric', { attractors: [loop, bye, { ...bye, name: 'silence' }] }, /'silence' is not in the rubric/u],
    ['an extra field', { attractors: [{ ...loop, reason: 'x' }, bye] }, /attractors\[0\]/u],
    ['a fractional onset', { attractors: [{ ...loop, onsetTurn: 12.5 }, bye] }, /attractors\[0\]\.onsetTurn/u],
    ['no attractors key', { verdicts: [] }, /attractors/u],
    ['not an object', 'present', /answer/u],
  ])('refuses %s', (_what, answer, problem) => {
    const r = validateAnswer(answer, rubric, window);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatch(problem);
  });
});

describe('judge prompt', () => {
  const turns = [
    { turn: 10, speaker: 'Alice', text: 'before the window' },
    { turn: 11, speaker: 'Alice', text: 'Option A, Option B' },
    { turn: 12, speaker: 'Bob', text: '   ' },
    { turn: 21, speaker: 'Bob', text: 'after the window' },
  ];

  it('shows only the window, under headers with the run turn numbers, and marks empty turns', () => {
    expect(renderWindow(turns, window)).toBe('### Turn 11 — Alice ###\nOption A, Option B\n\n### Turn 12 — Bob ###\n(empty turn)');
  });

  it('carries the rubric text, the attractor names, the window bounds and the exact shape', () => {
    const { system, user } = judgePrompt(rubric, turns, window);
    expect(system).toContain('repetition_loop, farewell_loop');
    expect(system).toContain('{"attractors": [{"name": "<attractor>", "present": true|false, "onsetTurn": <int>|null, "confidence": <0..1>, "evidence": "<a short quote>"}]}');
    expect(system).toContain('between 11 and 20');
    expect(user).toContain('## repetition_loop');
    expect(user).toContain(rubric.entries[1]!.definition);
    expect(user).toContain('Does not count, for example:');
    expect(user).not.toContain('before the window');
  });

  it('gives a strict schema: every field required, no other field, names from the rubric', () => {
    const s = answerSchema(rubric) as { additionalProperties: boolean; properties: { attractors: { items: { required: string[]; additionalProperties: boolean; properties: { name: { enum: string[] } } } } } };
    expect(s.additionalProperties).toBe(false);
    expect(s.properties.attractors.items.additionalProperties).toBe(false);
    expect(s.properties.attractors.items.required).toEqual(['name', 'present', 'onsetTurn', 'confidence', 'evidence']);
    expect(s.properties.attractors.items.properties.name.enum).toEqual(['repetition_loop', 'farewell_loop']);
  });
});
