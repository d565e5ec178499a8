import type { z } from 'zod';
import type { Agent } from '../agent.js';
import type { AgentDeps } from '../agent.js';
import type { OllamaAgentSchema } from '../spec.js';
import { buildChatView } from '../chat-view.js';
import { estimateTokens } from '../_tokens.js';
import { remoteTurn } from '../remote/remote-turn.js';
import { remoteSetup } from '../remote/setup.js';
import { ollamaClient, ollamaOptions, ollamaParts } from '../remote/ollama-client.js';

type OllamaSpec = z.infer<typeof OllamaAgentSchema>;

/**
 * A local model through Ollama's /api/chat, streamed as NDJSON. The host is the scenario's `baseURL`,
 * else OLLAMA_HOST, else 127.0.0.1:11434. The `ollama` client has no retries or timeouts of its own,
 * so the turn retries failed requests (honouring retry-after) and times out silent servers itself.
 */
export function createOllamaAgent(spec: OllamaSpec, deps: AgentDeps): Agent {
  const setup = remoteSetup('ollama', spec, deps);
  return {
    id: spec.id,
    name: spec.name ?? spec.id,
    backend: 'ollama',
    model: spec.model,
    stream(options) {
      const sampling = { ...spec.sampling, ...options.sampling };
      const stops = [...new Set([...options.stop, ...(spec.stop ?? [])])];
      const system = spec.persona ?? '';
      return remoteTurn(setup.turnConfig(options, { sdkRetries: false, ndjson: true }), async (turn) => {
        const view = buildChatView(options, {
          kickoff: spec.kickoff,
          mergeConsecutive: false,
          contextWindow: spec.contextWindow,
          reservedTokens: (sampling.maxTokens ?? 1024) + estimateTokens(system),
        });
        if (view.trimmed) turn.push({ type: 'context-trimmed', ...view.trimmed });
        const prefill = options.prefill || undefined;
        const messages = [
          ...(system ? [{ role: 'system', content: system }] : []),
          ...view.messages.map((m) => ({ role: m.role, content: m.content })),
          // A final assistant message: Ollama renders it unclosed and the model continues it.
          ...(prefill ? [{ role: 'assistant', content: prefill }] : []),
        ];
        return turn.call({
          stops,
          trim: false,
          ...(prefill ? { continuesPrefill: true } : {}),
          estimatedInputTokens: view.estimatedTokens + estimateTokens(system) + estimateTokens(prefill ?? ''),
          async *run(ctx) {
            const stream = await ollamaClient(setup, ctx.fetch).chat({
              model: spec.model,
              messages,
              stream: true,
              options: ollamaOptions(sampling, stops, spec.contextWindow),
            });
            yield* ollamaParts(stream, ctx.signal);
          },
        });
      });
    },
  };
}
