import type { RubricSet } from './rubric.js';

/** One turn of a run as the judge reads it. `turn` is the run's own turn number. */
export interface JudgeTurn {
  turn: number;
  speaker: string;
  text: string;
}

/** First and last turn of a window, inclusive. */
export type TurnWindow = readonly [number, number];

/** The name of the Anthropic tool the judge must call, and of the OpenAI response schema. */
export const ANSWER_TOOL = 'record_verdicts';

/**
 * The JSON schema of an answer, as every provider is given it: one object per rubric attractor, every field
 * required, nothing else allowed (what OpenAI's strict mode demands). Ranges are checked by `validateAnswer`,
 * since strict schemas do not all accept minimum and maximum.
 */
export function answerSchema(rubric: RubricSet): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      attractors: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string', enum: rubric.entries.map((e) => e.name) },
            present: { type: 'boolean' },
            onsetTurn: { type: ['integer', 'null'] },
            confidence: { type: 'number' },
            evidence: { type: 'string' },
          },
          required: ['name', 'present', 'onsetTurn', 'confidence', 'evidence'],
          additionalProperties: false,
        },
      },
    },
    required: ['attractors'],
    additionalProperties: false,
  };
}

/** The window's turns, each under a header with its run turn number and speaker. */
export function renderWindow(turns: readonly JudgeTurn[], window: TurnWindow): string {
  const inside = turns.filter((t) => t.turn >= window[0] && t.turn <= window[1]);
  return inside.map((t) => `### Turn ${t.turn} — ${t.speaker} ###\n${t.text.trim() === '' ? '(empty turn)' : t.text}`).join('\n\n');
}

function renderRubric(rubric: RubricSet): string {
  return rubric.entries
    .map((e) => {
      const lines = [`## ${e.name}`, e.definition];
      if (e.positive.length > 0) lines.push('Counts as present, for example:', ...e.positive.map((p) => `- ${p}`));
      if (e.negative.length > 0) lines.push('Does not count, for example:', ...e.negative.map((n) => `- ${n}`));
      return lines.join('\n');
    })
    .join('\n\n');
}

/** The two messages of a judge request: what the judge is and how it answers, then the rubric and the turns. */
export function judgePrompt(rubric: RubricSet, turns: readonly JudgeTurn[], window: TurnWindow): { system: string; user: string } {
  const names = rubric.entries.map((e) => e.name).join(', ');
  const system = [
    'You read transcripts of conversations between language models and decide, for each attractor described in the rubric,',
    'whether the conversation has fallen into it. Judge only from the turns shown; be strict and consistent.',
    '',
    `Answer with one JSON object of exactly this shape, with one entry for each of these attractors, each once: ${names}.`,
    '{"attractors": [{"name": "<attractor>", "present": true|false, "onsetTurn": <int>|null, "confidence": <0..1>, "evidence": "<a short quote>"}]}',
    `- onsetTurn is the turn number shown in the transcript headers (between ${window[0]} and ${window[1]}) where the attractor begins; null when present is false.`,
    '- confidence is how sure you are of the present/absent call, from 0 to 1.',
    '- evidence is a short quote from the turns that supports the call (an empty string when there is nothing to quote).',
  ].join('\n');
  const user = [
    '# Rubric',
    renderRubric(rubric),
    '',
    `# Transcript, turns ${window[0]} to ${window[1]}`,
    renderWindow(turns, window),
  ].join('\n');
  return { system, user };
}
