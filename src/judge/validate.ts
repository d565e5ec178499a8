import { z } from 'zod';
import type { Verdict } from '../runlog/events.js';
import { formatPath } from '../format-path.js';
import type { TurnWindow } from './prompt.js';
import type { RubricSet } from './rubric.js';

const AnswerSchema = z.strictObject({
  attractors: z.array(
    z.strictObject({
      name: z.string(),
      present: z.boolean(),
      onsetTurn: z.number().int().nullable(),
      confidence: z.number().min(0).max(1),
      evidence: z.string(),
    }),
  ),
});

export type Validation = { ok: true; verdicts: Verdict[] } | { ok: false; problem: string };

/**
 * Check a judge's answer against the rubric and window: the exact shape, every rubric attractor answered once
 * and no other, onsetTurn inside the window (or null), and null when the attractor is absent. Verdicts come
 * back in the rubric's order.
 */
export function validateAnswer(answer: unknown, rubric: RubricSet, window: TurnWindow): Validation {
  const parsed = AnswerSchema.safeParse(answer);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, problem: `${formatPath(issue.path) || 'answer'}: ${issue.message}` };
  }
  const byName = new Map<string, (typeof parsed.data.attractors)[number]>();
  const known = new Set(rubric.entries.map((e) => e.name));
  for (const [i, a] of parsed.data.attractors.entries()) {
    if (!known.has(a.name)) return { ok: false, problem: `attractors[${i}].name: '${a.name}' is not in the rubric` };
    if (byName.has(a.name)) return { ok: false, problem: `attractors[${i}].name: '${a.name}' is answered twice` };
    if (a.onsetTurn !== null && (a.onsetTurn < window[0] || a.onsetTurn > window[1])) {
      return { ok: false, problem: `attractors[${i}].onsetTurn: ${a.onsetTurn} is outside the window (turns ${window[0]} to ${window[1]})` };
    }
    if (!a.present && a.onsetTurn !== null) return { ok: false, problem: `attractors[${i}].onsetTurn: '${a.name}' is absent but has an onset turn` };
    byName.set(a.name, a);
  }
  const missing = rubric.entries.filter((e) => !byName.has(e.name)).map((e) => e.name);
  if (missing.length > 0) return { ok: false, problem: `no answer for ${missing.map((n) => `'${n}'`).join(', ')}` };
  return {
    ok: true,
    verdicts: rubric.entries.map((e) => {
      const a = byName.get(e.name)!;
      return { attractor: a.name, present: a.present, onsetTurn: a.onsetTurn, confidence: a.confidence, evidence: a.evidence };
    }),
  };
}
