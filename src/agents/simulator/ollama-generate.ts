import type { z } from 'zod';
import type { Agent } from '../agent.js';
import type { AgentDeps } from '../agent.js';
import type { OllamaGenerateAgentSchema } from '../spec.js';
import { remoteSetup } from '../remote/setup.js';
import { ollamaClient, ollamaOptions, ollamaParts } from '../remote/ollama-client.js';
import { createSimulatorAgent } from './simulator-agent.js';

type Spec = z.infer<typeof OllamaGenerateAgentSchema>;

/**
 * A base model in Ollama, through /api/generate with `raw: true` so that no chat template is wrapped
 * around the document: the model sees exactly the text we render.
 */
export function createOllamaGenerateAgent(spec: Spec, deps: AgentDeps): Agent {
  const setup = remoteSetup('ollama', spec, deps);
  return createSimulatorAgent(
    spec,
    {
      turnConfig: (options) => setup.turnConfig(options, { sdkRetries: false, ndjson: true }),
      async *complete(req, ctx) {
        const stream = await ollamaClient(setup, ctx.fetch).generate({
          model: spec.model,
          prompt: req.prompt,
          raw: true,
          stream: true,
          options: ollamaOptions(req.sampling, req.stops, spec.contextWindow, req.retry),
        });
        yield* ollamaParts(stream, ctx.signal);
      },
    },
    setup.logger,
  );
}
