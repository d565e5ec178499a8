import type { Reply } from '../agents/_fake-server.js';

/**
 * The body of an OpenAI chat completion from a judge: `content` holds the structured answer, or `refusal` says the
 * model declined. 800 prompt and 60 completion tokens, as the judge tests expect.
 */
export function openAIJudgeCompletion(content: string | null, refusal: string | null, model = 'gpt-4o-mini') {
  return {
    id: 'chatcmpl-judge',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 800, completion_tokens: 60, total_tokens: 860 },
  };
}

/** That completion as a fake server's reply. */
export function openAIJudgeReply(content: string | null, refusal: string | null = null): Reply {
  return { kind: 'status', status: 200, json: openAIJudgeCompletion(content, refusal) };
}
