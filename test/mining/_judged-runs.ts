import { appendJudgements, verdict, writeRun, type JudgementSpec } from './_runs.js';

/**
 * Ten runs of 8 turns whose detectors scored bliss and farewell. Detector onsets and the judge's verdicts
 * (openai:gpt-4o-mini unless said) are chosen so that every way of reading a judgement shows in the figures.
 */
export const JUDGED_RUNS: { detector?: number; judged: JudgementSpec[] }[] = [
  /* r0 */ { detector: 3, judged: [{ window: [1, 8], verdicts: [verdict('bliss', true, 2), verdict('farewell', false)] }, { judge: { backend: 'openai', model: 'gpt-4o' }, window: [1, 8], verdicts: [verdict('bliss', false)] }] },
  /* r1 */ { detector: 5, judged: [{ window: [1, 8], verdicts: [verdict('bliss', true, 6), verdict('farewell', true, 7)] }] },
  /* r2 */ { judged: [{ window: [1, 8], verdicts: [verdict('bliss', true, 4), verdict('farewell', false)] }] },
  /* r3 */ { detector: 2, judged: [{ window: [1, 8], verdicts: [verdict('bliss', false), verdict('farewell', false)] }] },
  /* r4 */ { judged: [{ window: [1, 8], verdicts: [verdict('bliss', false), verdict('farewell', false)] }] },
  // A refusal: no verdict on anything.
  /* r5 */ { judged: [{ window: [1, 8], failure: { kind: 'refusal', message: 'I would rather not.' } }] },
  // Absent in the first half, malformed in the second: no verdict (never "absent") on either attractor.
  /* r6 */ { detector: 4, judged: [{ window: [1, 4], verdicts: [verdict('bliss', false), verdict('farewell', false)] }, { window: [5, 8], failure: { kind: 'malformed', message: 'not the schema' } }] },
  // Never judged.
  /* r7 */ { judged: [] },
  // Found in the first half, the second half failed: present for bliss, no verdict for farewell.
  /* r8 */ { detector: 3, judged: [{ window: [1, 4], verdicts: [verdict('bliss', true, 3), verdict('farewell', false)] }, { window: [5, 8], failure: { kind: 'error', message: '500' } }] },
  // Judged twice: the newest judgement of the window counts.
  /* r9 */ { detector: 5, judged: [{ window: [1, 8], verdicts: [verdict('bliss', false), verdict('farewell', false)] }, { window: [1, 8], verdicts: [verdict('bliss', true, 5), verdict('farewell', false)] }] },
];

/** Write JUDGED_RUNS as r0…r9 under `dir` (scenario "free"), the judgements appended after each run through the writer. */
export function writeJudgedRuns(dir: string): void {
  JUDGED_RUNS.forEach((r, i) => {
    writeRun(dir, { runId: `r${i}`, scenario: 'free', turns: 8, attractors: ['bliss', 'farewell'], ...(r.detector ? { entered: { bliss: r.detector } } : {}) });
    if (r.judged.length) appendJudgements(dir, `r${i}`, r.judged);
  });
}
