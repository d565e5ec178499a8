import type { EventBody, Judgement, JudgeFailure, Verdict } from '../runlog/events.js';
import { addUsage, costOf } from '../agents/prices.js';
import { describeError } from '../errors.js';
import type { Usage } from '../usage.js';
import { answerSchema, judgePrompt, type JudgeTurn, type TurnWindow } from './prompt.js';
import type { JudgeClient } from './request.js';
import type { RubricSet } from './rubric.js';
import { validateAnswer } from './validate.js';

/**
 * A judgement event's body; `replay: true` when its verdicts were answered from the record/replay cache (nothing
 * was sent: `costUsd` 0, `usage` as recorded with the answer), as a replayed turn's `turn.completed` says.
 */
export type JudgementBody = EventBody<Judgement> & { replay?: true };

export interface JudgeWindowInput {
  rubric: RubricSet;
  /** The run's turns; those inside `window` are sent. */
  turns: readonly JudgeTurn[];
  window: TurnWindow;
  /** Further requests after a malformed answer before the window is recorded as a failure. Default 2. */
  malformedRetries?: number;
  signal?: AbortSignal;
}

/**
 * Judge one window: send it with the rubric, validate the answer, ask again after a malformed one, and return
 * the body of its `judgement` event. A refusal, a never-valid answer and a failed request each become a
 * `failure`, never verdicts of absence. Usage and cost add up every request made. An abort still throws.
 */
export async function judgeWindow(judge: JudgeClient, input: JudgeWindowInput): Promise<JudgementBody> {
  const { rubric, turns, window } = input;
  const { system, user } = judgePrompt(rubric, turns, window);
  const schema = answerSchema(rubric);
  let usage: Usage = { inputTokens: 0, outputTokens: 0 };
  // Only what was sent costs: an answer from the cache keeps its recorded usage, at no cost.
  let paid: Usage = { inputTokens: 0, outputTokens: 0 };
  let replay = false;
  const body = (result: { verdicts: Verdict[] } | { failure: JudgeFailure }): JudgementBody => ({
    type: 'judgement',
    judge: { backend: judge.backend, model: judge.model },
    rubric: { name: rubric.name, hash: rubric.hash },
    window: [window[0], window[1]],
    ...result,
    usage,
    costUsd: costOf(paid, judge.price),
    ...(replay ? { replay: true as const } : {}),
  });
  const tries = 1 + (input.malformedRetries ?? 2);
  const problems: string[] = [];
  for (let attempt = 1; attempt <= tries; attempt++) {
    let reply;
    try {
      reply = await judge.ask({ system, user, schema, signal: input.signal });
    } catch (err) {
      if (input.signal?.aborted) throw err;
      const e = describeError(err);
      return body({ failure: { kind: 'error', message: judge.redact(`${e.name}${e.status ? ` ${e.status}` : ''}: ${e.message}`) } });
    }
    usage = addUsage(usage, reply.usage);
    if (!reply.replay) paid = addUsage(paid, reply.usage);
    const outcome = reply.outcome;
    const checked = outcome.kind === 'answer' ? validateAnswer(outcome.value, rubric, window) : undefined;
    // Only an answer that validated is kept in the cache; a replayed one that did not is removed from it.
    await reply.settle?.(checked?.ok === true);
    if (outcome.kind === 'refusal') return body({ failure: { kind: 'refusal', message: judge.redact(outcome.message) } });
    if (checked?.ok) {
      replay = reply.replay === true;
      return body({ verdicts: checked.verdicts });
    }
    problems.push(checked ? checked.problem : outcome.kind === 'malformed' ? outcome.problem : '');
  }
  const message = `no valid answer in ${tries} request${tries > 1 ? 's' : ''}: ${problems.map((p, i) => `${i + 1}) ${p}`).join('; ')}`;
  return body({ failure: { kind: 'malformed', message: judge.redact(message) } });
}
