import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import type { Agent, FinishReason } from '../agent.js';
import type { AgentDeps } from '../agent.js';
import type { LlamaCppAgentSchema } from '../spec.js';
import { InputError } from '../../errors.js';
import { Channel } from '../remote/_channel.js';
import { timerSleep } from '../../clock.js';
import { redactor } from '../remote/redact.js';
import type { ProviderPart } from '../remote/remote-turn.js';
import { createSimulatorAgent } from './simulator-agent.js';

type Spec = z.infer<typeof LlamaCppAgentSchema>;

/** The few parts of node-llama-cpp (v3) we use; the package is optional, so we describe them here. */
interface LlamaCompletionLike {
  generateCompletionWithMeta(
    prompt: string,
    options: {
      signal?: AbortSignal;
      stopOnAbortSignal?: boolean;
      maxTokens?: number;
      temperature?: number;
      topK?: number;
      topP?: number;
      seed?: number;
      customStopTriggers?: string[];
      onTextChunk?: (text: string) => void;
      onToken?: (tokens: readonly unknown[]) => void;
    },
  ): Promise<{ response: string; metadata: { stopReason: string } }>;
  dispose?(): void;
}
interface LlamaModelLike {
  createContext(options: { contextSize?: number }): Promise<{ getSequence(): unknown; dispose?(): Promise<void> }>;
  tokenize(text: string): readonly unknown[];
  dispose?(): Promise<void>;
}
interface NodeLlamaCpp {
  getLlama(): Promise<{ loadModel(options: { modelPath: string }): Promise<LlamaModelLike> }>;
  LlamaCompletion: new (options: { contextSequence: unknown }) => LlamaCompletionLike;
}

function isNodeLlamaCpp(mod: unknown): mod is NodeLlamaCpp {
  if (typeof mod !== 'object' || mod === null) return false;
  const m = mod as Record<string, unknown>;
  return typeof m.getLlama === 'function' && typeof m.LlamaCompletion === 'function';
}

/** Load the optional package; a missing one is a setup problem of the user, said in one line. */
export async function importNodeLlamaCpp(specifier = 'node-llama-cpp'): Promise<NodeLlamaCpp> {
  let mod: unknown;
  try {
    mod = await import(specifier);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new InputError(`backend 'llama-cpp' needs the optional package node-llama-cpp, which is not installed: run \`npm i node-llama-cpp\``, { cause: err });
    }
    throw new InputError(`backend 'llama-cpp': node-llama-cpp failed to load: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (!isNodeLlamaCpp(mod)) throw new InputError(`backend 'llama-cpp': node-llama-cpp does not export getLlama and LlamaCompletion (version 3 is needed)`);
  return mod;
}

function reasonOf(stop: string): FinishReason {
  if (stop === 'maxTokens') return 'length';
  if (stop === 'customStopTrigger' || stop === 'stopGenerationTrigger') return 'stop_sequence';
  if (stop === 'eogToken' || stop === 'eosToken') return 'stop';
  return 'other';
}

/**
 * A GGUF base model run in this process by node-llama-cpp (optional dependency). The model is loaded
 * on the first turn and kept; turns run one at a time on one context sequence, which reuses the
 * evaluated prefix of the previous document.
 */
export async function createLlamaCppAgent(spec: Spec, deps: AgentDeps): Promise<Agent> {
  const modelPath = resolve(deps.scenarioDir, spec.modelPath);
  const llamaCpp = await importNodeLlamaCpp();
  if (!existsSync(modelPath)) throw new InputError(`agent '${spec.id}' (llama-cpp): no GGUF file at ${modelPath}`);
  const logger = deps.logger.child({ agentId: spec.id, backend: 'llama-cpp', model: spec.model });
  let loaded: Promise<{ model: LlamaModelLike; sequence: unknown }> | undefined;
  const load = () =>
    (loaded ??= (async () => {
      const llama = await llamaCpp.getLlama();
      const model = await llama.loadModel({ modelPath });
      const context = await model.createContext({ contextSize: spec.contextWindow ?? 4096 });
      return { model, sequence: context.getSequence() };
    })());
  let queue: Promise<unknown> = Promise.resolve();

  return createSimulatorAgent(
    spec,
    {
      turnConfig: (options) => ({
        agentId: spec.id,
        turn: options.turn,
        label: `agent '${spec.id}' (llama-cpp ${spec.modelPath})`,
        maxRetries: spec.maxRetries,
        timeoutMs: spec.timeoutMs,
        sdkRetries: false,
        http: false,
        fetch: globalThis.fetch,
        sleep: deps.sleep ?? timerSleep,
        price: undefined,
        redact: redactor([]),
        logger,
        signal: options.signal,
      }),
      async *complete(req, ctx) {
        const { model, sequence } = await load();
        const ch = new Channel<ProviderPart>();
        let outputTokens = 0;
        const s = req.sampling;
        // One sequence: turns wait for each other.
        const run = queue.then(async () => {
          const completion = new llamaCpp.LlamaCompletion({ contextSequence: sequence });
          try {
            const r = await completion.generateCompletionWithMeta(req.prompt, {
              signal: ctx.signal,
              stopOnAbortSignal: true,
              ...(s.maxTokens !== undefined ? { maxTokens: s.maxTokens } : {}),
              ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
              ...(s.topK !== undefined ? { topK: s.topK } : {}),
              ...(s.topP !== undefined ? { topP: s.topP } : {}),
              ...(s.seed !== undefined ? { seed: s.seed + req.retry } : {}),
              customStopTriggers: [...req.stops],
              onTextChunk: (text) => ch.push({ type: 'text', text }),
              onToken: (tokens) => {
                outputTokens += tokens.length;
              },
            });
            ch.push({ type: 'usage', usage: { inputTokens: model.tokenize(req.prompt).length, outputTokens } });
            ch.push({ type: 'done', reason: reasonOf(r.metadata.stopReason) });
            ch.close();
          } catch (err) {
            ch.fail(err);
          } finally {
            completion.dispose?.();
          }
        });
        queue = run.catch(() => undefined);
        yield* ch;
      },
      async close() {
        if (loaded) await (await loaded).model.dispose?.();
      },
    },
    logger,
  );
}
