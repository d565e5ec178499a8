import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsStreaming, MessageParam, TextBlockParam } from '@anthropic-ai/sdk/resources/messages/messages';
import { z } from 'zod';
import type { Agent, FinishReason } from '../agent.js';
import type { AgentDeps } from '../agent.js';
import type { AnthropicAgentSchema } from '../spec.js';
import { buildChatView } from '../chat-view.js';
import { estimateTokens } from '../_tokens.js';
import { remoteTurn, type ProviderPart } from '../remote/remote-turn.js';
import { MalformedChunkError } from '../remote/stream-errors.js';
import { AgentError, InputError } from '../../errors.js';
import type { Usage } from '../../usage.js';
import { remoteSetup } from '../remote/setup.js';
import { sdkLogger, sdkLogLevel } from '../remote/redact.js';

type AnthropicSpec = z.infer<typeof AnthropicAgentSchema>;

const DEFAULT_MAX_TOKENS = 2048;

const Count = z.number().nullish();
/** Usage as the Messages API reports it. */
export const AnthropicUsageShape = z.looseObject({
  input_tokens: Count,
  output_tokens: Count,
  cache_creation_input_tokens: Count,
  cache_read_input_tokens: Count,
});
/** The fields we read from each streamed event; anything else in them is ignored. */
const EventShape = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('message_start'), message: z.looseObject({ usage: AnthropicUsageShape }) }),
  z.looseObject({ type: z.literal('content_block_start'), content_block: z.looseObject({ type: z.string(), text: z.string().optional() }) }),
  z.looseObject({ type: z.literal('content_block_delta'), delta: z.looseObject({ type: z.string(), text: z.string().optional(), thinking: z.string().optional() }) }),
  z.looseObject({ type: z.literal('content_block_stop') }),
  z.looseObject({ type: z.literal('message_delta'), delta: z.looseObject({ stop_reason: z.string().nullish() }), usage: AnthropicUsageShape.optional() }),
  z.looseObject({ type: z.literal('message_stop') }),
]);

function finishReason(stop: string | null | undefined): FinishReason {
  switch (stop) {
    case 'end_turn':
      return 'stop';
    case 'stop_sequence':
      return 'stop_sequence';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'refusal';
    default:
      return 'other';
  }
}

/**
 * Our usage from Anthropic's: input counts cache reads and writes too. message_delta repeats counts
 * cumulatively, sometimes without the cache fields; its input count is used only when they are there
 * (`complete`: a whole response's usage, which has them all).
 */
export function anthropicUsage(u: z.infer<typeof AnthropicUsageShape>, complete: boolean): Partial<Usage> {
  const write = u.cache_creation_input_tokens ?? 0;
  const read = u.cache_read_input_tokens ?? 0;
  const inputKnown = typeof u.input_tokens === 'number' && (complete || (u.cache_creation_input_tokens != null && u.cache_read_input_tokens != null));
  return {
    ...(inputKnown ? { inputTokens: (u.input_tokens ?? 0) + write + read } : {}),
    ...(typeof u.output_tokens === 'number' ? { outputTokens: u.output_tokens } : {}),
    ...(u.cache_read_input_tokens != null ? { cacheReadTokens: read } : {}),
    ...(u.cache_creation_input_tokens != null ? { cacheWriteTokens: write } : {}),
  };
}

function usageOf(u: z.infer<typeof AnthropicUsageShape>, complete: boolean): ProviderPart {
  return { type: 'usage', usage: anthropicUsage(u, complete) };
}

/**
 * Claude through the Messages API, streamed. The persona is the `system` prompt. With `cache` (the
 * default) two cache breakpoints mark the long shared prefix: the system prompt and the newest
 * message, so each turn reads the history the previous turn wrote instead of paying for it again.
 * With `thinking` (a budget, or adaptive), the model's reasoning is streamed as `thinking-delta` parts,
 * apart from the text; temperature and top_k are then left out, as the API demands.
 */
export function createAnthropicAgent(spec: AnthropicSpec, deps: AgentDeps): Agent {
  if (spec.prefill && spec.thinking) {
    throw new InputError(`agent '${spec.id}' (anthropic): prefill and thinking cannot go together (the Messages API refuses a prefilled answer with extended thinking)`);
  }
  const setup = remoteSetup('anthropic', spec, deps);
  const { endpoint, redact } = setup;
  const ephemeral = { type: 'ephemeral' as const };
  return {
    id: spec.id,
    name: spec.name ?? spec.id,
    backend: 'anthropic',
    model: spec.model,
    stream(options) {
      const sampling = { ...spec.sampling, ...options.sampling };
      const thinking = spec.thinking;
      const budget = thinking && 'budgetTokens' in thinking ? thinking.budgetTokens : undefined;
      const maxTokens = Math.max(sampling.maxTokens ?? DEFAULT_MAX_TOKENS, budget !== undefined ? budget + 1024 : 0);
      const stops = [...new Set([...options.stop, ...(spec.stop ?? [])])];
      const system = spec.persona ?? '';
      // The API refuses a final assistant message that ends in whitespace: it is sent without, and the
      // continuation's own leading blank (the model writes one) is dropped so the turn reads as given.
      const prefill = options.prefill || undefined;
      const sentPrefill = prefill?.replace(/\s+$/u, '');
      const dropLeadingBlank = prefill !== undefined && sentPrefill !== prefill;
      return remoteTurn(setup.turnConfig(options, { sdkRetries: true }), async (turn) => {
        if (prefill !== undefined && thinking) {
          throw new AgentError(`agent '${spec.id}' (anthropic): cannot prefill a turn with extended thinking on`, { agentId: spec.id, retryable: false });
        }
        const view = buildChatView(options, {
          kickoff: spec.kickoff,
          mergeConsecutive: true,
          contextWindow: spec.contextWindow,
          reservedTokens: maxTokens + estimateTokens(system) + estimateTokens(prefill ?? ''),
        });
        if (view.trimmed) turn.push({ type: 'context-trimmed', ...view.trimmed });
        const messages: MessageParam[] = view.messages.map((m, i) =>
          spec.cache && i === view.messages.length - 1
            ? { role: m.role, content: [{ type: 'text', text: m.content, cache_control: ephemeral }] }
            : { role: m.role, content: m.content },
        );
        // The prefill is the start of the answer: a final assistant message that the model continues.
        if (sentPrefill) messages.push({ role: 'assistant', content: sentPrefill });
        const systemBlocks: TextBlockParam[] = system ? [{ type: 'text', text: system, ...(spec.cache ? { cache_control: ephemeral } : {}) }] : [];
        const params: MessageCreateParamsStreaming = {
          model: spec.model,
          max_tokens: maxTokens,
          messages,
          stream: true,
          ...(systemBlocks.length > 0 ? { system: systemBlocks } : {}),
          // Extended thinking accepts neither a temperature other than 1 nor top_k.
          ...(!thinking && sampling.temperature !== undefined ? { temperature: Math.min(1, sampling.temperature) } : {}),
          ...(!thinking && sampling.topK !== undefined ? { top_k: sampling.topK } : {}),
          ...(sampling.topP !== undefined ? { top_p: sampling.topP } : {}),
          ...(stops.some((s) => s.trim() !== '') ? { stop_sequences: stops.filter((s) => s.trim() !== '') } : {}),
          ...(budget !== undefined ? { thinking: { type: 'enabled', budget_tokens: budget } } : thinking ? { thinking: { type: 'adaptive' } } : {}),
        };
        return turn.call({
          stops,
          trim: false,
          estimatedInputTokens: view.estimatedTokens + estimateTokens(system) + estimateTokens(prefill ?? ''),
          ...(prefill !== undefined ? { continuesPrefill: true } : {}),
          async *run(ctx) {
            let leading = dropLeadingBlank;
            const client = new Anthropic({
              apiKey: endpoint.apiKey ?? null,
              baseURL: endpoint.baseURL,
              maxRetries: ctx.maxRetries,
              timeout: setup.firstByteTimeoutMs + 1_000,
              fetch: ctx.fetch,
              logger: sdkLogger(setup.logger, redact),
              logLevel: sdkLogLevel(setup.logger),
            });
            const stream = await client.messages.create(params, { signal: ctx.signal });
            let stopReason: string | null | undefined;
            for await (const raw of stream) {
              const parsed = EventShape.safeParse(raw);
              if (!parsed.success) {
                // Events we do not know (new types, pings) are skipped; known ones must have their fields.
                const type = typeof raw === 'object' && raw !== null && 'type' in raw ? String(raw.type) : '';
                if (!['message_start', 'content_block_start', 'content_block_delta', 'message_delta'].includes(type)) continue;
                throw new MalformedChunkError(`malformed ${type} event: ${parsed.error.issues[0]?.message ?? 'bad shape'}`, { retryable: true });
              }
              const ev = parsed.data;
              switch (ev.type) {
                case 'message_start':
                  yield usageOf(ev.message.usage, true);
                  break;
                case 'content_block_start':
                  if (ev.content_block.type === 'text' && ev.content_block.text) yield { type: 'text', text: ev.content_block.text };
                  break;
                case 'content_block_delta':
                  if (ev.delta.type === 'text_delta' && ev.delta.text !== undefined) {
                    const text = leading ? ev.delta.text.replace(/^\s+/u, '') : ev.delta.text;
                    if (text) {
                      leading = false;
                      yield { type: 'text', text };
                    }
                  }
                  else if (ev.delta.type === 'thinking_delta' && ev.delta.thinking !== undefined) yield { type: 'thinking', text: ev.delta.thinking };
                  break;
                case 'content_block_stop':
                  break;
                case 'message_delta':
                  stopReason = ev.delta.stop_reason ?? stopReason;
                  if (ev.usage) yield usageOf(ev.usage, false);
                  break;
                case 'message_stop':
                  yield { type: 'done', reason: finishReason(stopReason) };
                  return;
                default: {
                  const never: never = ev;
                  throw new Error(`unhandled event ${JSON.stringify(never)}`);
                }
              }
            }
          },
        });
      });
    },
  };
}
