import OpenAI from 'openai';
import type { ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { z } from 'zod';
import type { Agent, FinishReason } from '../agent.js';
import type { AgentDeps } from '../agent.js';
import type { OpenAIAgentSchema } from '../spec.js';
import { buildChatView } from '../chat-view.js';
import { estimateTokens } from '../_tokens.js';
import { remoteTurn, type ProviderPart } from '../remote/remote-turn.js';
import { MalformedChunkError } from '../remote/stream-errors.js';
import { remoteSetup, type RemoteSetup } from '../remote/setup.js';
import { sdkLogger, sdkLogLevel } from '../remote/redact.js';
import type { Usage } from '../../usage.js';

type OpenAISpec = z.infer<typeof OpenAIAgentSchema>;

const Count = z.number().nullish();
/** Usage as OpenAI and compatible servers report it (with `stream_options.include_usage`). */
export const OpenAIUsageShape = z.looseObject({
  prompt_tokens: Count,
  completion_tokens: Count,
  prompt_tokens_details: z.looseObject({ cached_tokens: Count }).nullish(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: Count }).nullish(),
});

const ChunkShape = z.looseObject({
  choices: z
    .array(
      z.looseObject({
        delta: z
          .looseObject({
            content: z.string().nullish(),
            // Reasoning text of compatible servers (DeepSeek, vLLM reasoning parsers, OpenRouter).
            reasoning_content: z.string().nullish(),
            reasoning: z.string().nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: OpenAIUsageShape.nullish(),
});

export function openAIFinishReason(reason: string): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'other';
  }
}

/** Our usage from what OpenAI and compatible servers report. */
export function openAIUsageOf(u: z.infer<typeof OpenAIUsageShape>): Partial<Usage> {
  return {
    ...(typeof u.prompt_tokens === 'number' ? { inputTokens: u.prompt_tokens } : {}),
    ...(typeof u.completion_tokens === 'number' ? { outputTokens: u.completion_tokens } : {}),
    ...(typeof u.prompt_tokens_details?.cached_tokens === 'number' ? { cacheReadTokens: u.prompt_tokens_details.cached_tokens } : {}),
    ...(typeof u.completion_tokens_details?.reasoning_tokens === 'number' ? { reasoningTokens: u.completion_tokens_details.reasoning_tokens } : {}),
  };
}

export function openAIUsage(u: z.infer<typeof OpenAIUsageShape>): ProviderPart {
  return { type: 'usage', usage: openAIUsageOf(u) };
}

/** An OpenAI client for one call: our fetch, the call's retry budget, no key or setting read from process.env. */
export function openAIClient(setup: RemoteSetup, timeoutMs: number, ctx: { fetch: typeof fetch; maxRetries: number }): OpenAI {
  return new OpenAI({
    // Compatible servers often need no key; the SDK insists on one, and this one is no secret.
    apiKey: setup.endpoint.apiKey ?? 'no-key',
    baseURL: setup.endpoint.baseURL,
    organization: null,
    project: null,
    maxRetries: ctx.maxRetries,
    timeout: timeoutMs,
    fetch: ctx.fetch,
    logger: sdkLogger(setup.logger, setup.redact),
    logLevel: sdkLogLevel(setup.logger),
  });
}

/** OpenAI's own service accepts at most four stop strings; the rest are applied on our side. */
export function serverStops(stops: readonly string[], official: boolean): string[] {
  const usable = [...new Set(stops.filter((s) => s.length > 0))];
  return official ? usable.slice(0, 4) : usable;
}

/**
 * Chat Completions, streamed, against OpenAI or any compatible server (`baseURL`: vLLM, llama.cpp
 * server, LM Studio, OpenRouter, Ollama's /v1). The persona is the `system` message.
 */
export function createOpenAIAgent(spec: OpenAISpec, deps: AgentDeps): Agent {
  const setup = remoteSetup('openai', spec, deps);
  return {
    id: spec.id,
    name: spec.name ?? spec.id,
    backend: 'openai',
    model: spec.model,
    stream(options) {
      const sampling = { ...spec.sampling, ...options.sampling };
      const stops = [...new Set([...options.stop, ...(spec.stop ?? [])])];
      const system = spec.persona ?? '';
      const maxTokens = sampling.maxTokens;
      return remoteTurn(setup.turnConfig(options, { sdkRetries: true }), async (turn) => {
        const view = buildChatView(options, {
          kickoff: spec.kickoff,
          mergeConsecutive: false,
          contextWindow: spec.contextWindow,
          reservedTokens: (maxTokens ?? 1024) + estimateTokens(system),
        });
        if (view.trimmed) turn.push({ type: 'context-trimmed', ...view.trimmed });
        const prefill = options.prefill || undefined;
        const messages: ChatCompletionMessageParam[] = [
          ...(system ? [{ role: 'system' as const, content: system }] : []),
          ...view.messages.map((m) => ({ role: m.role, content: m.content })),
          // The start of the answer, as a final assistant message for the server to continue.
          ...(prefill ? [{ role: 'assistant' as const, content: prefill }] : []),
        ];
        const toServer = serverStops(stops, setup.endpoint.official);
        const params: ChatCompletionCreateParamsStreaming = {
          model: spec.model,
          messages,
          stream: true,
          stream_options: { include_usage: true },
          // Reasoning models on OpenAI's service take only max_completion_tokens; compatible servers know max_tokens.
          ...(maxTokens !== undefined ? (setup.endpoint.official ? { max_completion_tokens: maxTokens } : { max_tokens: maxTokens }) : {}),
          ...(sampling.temperature !== undefined ? { temperature: sampling.temperature } : {}),
          ...(sampling.topP !== undefined ? { top_p: sampling.topP } : {}),
          ...(sampling.seed !== undefined ? { seed: sampling.seed } : {}),
          ...(sampling.presencePenalty !== undefined ? { presence_penalty: sampling.presencePenalty } : {}),
          ...(sampling.frequencyPenalty !== undefined ? { frequency_penalty: sampling.frequencyPenalty } : {}),
          ...(toServer.length > 0 ? { stop: toServer } : {}),
          // vLLM continues a final assistant message only when told so (other compatible servers ignore these).
          ...(prefill && !setup.endpoint.official ? { continue_final_message: true, add_generation_prompt: false } : {}),
        };
        return turn.call({
          stops,
          trim: false,
          ...(prefill ? { continuesPrefill: true } : {}),
          estimatedInputTokens: view.estimatedTokens + estimateTokens(system) + estimateTokens(prefill ?? ''),
          async *run(ctx) {
            const client = openAIClient(setup, setup.firstByteTimeoutMs + 1_000, ctx);
            const stream = await client.chat.completions.create(params, { signal: ctx.signal });
            let finish: string | undefined;
            for await (const raw of stream) {
              const parsed = ChunkShape.safeParse(raw);
              if (!parsed.success) throw new MalformedChunkError(`malformed chat.completion.chunk: ${parsed.error.issues[0]?.message ?? 'bad shape'}`, { retryable: true });
              const choice = parsed.data.choices?.[0];
              const thinking = choice?.delta?.reasoning_content ?? choice?.delta?.reasoning;
              if (thinking) yield { type: 'thinking', text: thinking };
              if (choice?.delta?.content) yield { type: 'text', text: choice.delta.content };
              if (choice?.finish_reason) finish = choice.finish_reason;
              if (parsed.data.usage) yield openAIUsage(parsed.data.usage);
            }
            // The usage chunk comes after the one with finish_reason, so the end is known only here.
            if (finish !== undefined) yield { type: 'done', reason: openAIFinishReason(finish) };
          },
        });
      });
    },
  };
}
