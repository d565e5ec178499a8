import type { CompletionCreateParamsStreaming } from 'openai/resources/completions';
import { z } from 'zod';
import type { Agent } from '../agent.js';
import type { AgentDeps } from '../agent.js';
import type { OpenAICompletionsAgentSchema } from '../spec.js';
import { remoteSetup } from '../remote/setup.js';
import { MalformedChunkError } from '../remote/stream-errors.js';
import { openAIClient, openAIFinishReason, openAIUsage, OpenAIUsageShape, serverStops } from '../chat/openai.js';
import { createSimulatorAgent } from './simulator-agent.js';

type Spec = z.infer<typeof OpenAICompletionsAgentSchema>;

const ChunkShape = z.looseObject({
  choices: z.array(z.looseObject({ text: z.string().nullish(), finish_reason: z.string().nullish() })).nullish(),
  usage: OpenAIUsageShape.nullish(),
});

/**
 * A base model behind an OpenAI-compatible /v1/completions endpoint (vLLM, llama.cpp server,
 * OpenAI's davinci-002 / gpt-3.5-turbo-instruct), streamed as text_completion chunks.
 */
export function createOpenAICompletionsAgent(spec: Spec, deps: AgentDeps): Agent {
  const setup = remoteSetup('openai', spec, deps);
  return createSimulatorAgent(
    spec,
    {
      turnConfig: (options) => setup.turnConfig(options, { sdkRetries: true }),
      async *complete(req, ctx) {
        const s = req.sampling;
        const stops = serverStops(req.stops, setup.endpoint.official);
        const params: CompletionCreateParamsStreaming = {
          model: spec.model,
          prompt: req.prompt,
          stream: true,
          stream_options: { include_usage: true },
          ...(s.maxTokens !== undefined ? { max_tokens: s.maxTokens } : {}),
          ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
          ...(s.topP !== undefined ? { top_p: s.topP } : {}),
          ...(s.seed !== undefined ? { seed: s.seed + req.retry } : {}),
          ...(s.presencePenalty !== undefined ? { presence_penalty: s.presencePenalty } : {}),
          ...(s.frequencyPenalty !== undefined ? { frequency_penalty: s.frequencyPenalty } : {}),
          ...(stops.length > 0 ? { stop: stops } : {}),
        };
        const stream = await openAIClient(setup, setup.firstByteTimeoutMs + 1_000, ctx).completions.create(params, { signal: ctx.signal });
        let finish: string | undefined;
        for await (const raw of stream) {
          const parsed = ChunkShape.safeParse(raw);
          if (!parsed.success) throw new MalformedChunkError(`malformed text_completion chunk: ${parsed.error.issues[0]?.message ?? 'bad shape'}`, { retryable: true });
          const choice = parsed.data.choices?.[0];
          if (choice?.text) yield { type: 'text', text: choice.text };
          if (choice?.finish_reason) finish = choice.finish_reason;
          if (parsed.data.usage) yield openAIUsage(parsed.data.usage);
        }
        if (finish !== undefined) yield { type: 'done', reason: openAIFinishReason(finish) };
      },
    },
    setup.logger,
  );
}
