import type { Agent, AgentStreamOptions, Sampling } from '../agent.js';
import { remoteTurn, type CallContext, type ProviderPart, type RemoteTurnConfig } from '../remote/remote-turn.js';
import type { TemplateSchema } from '../spec.js';
import type { z } from 'zod';
import { buildDocument } from './document-view.js';
import { resolveTemplate } from './templates.js';
import type { Logger } from 'pino';

/** Base-model settings every simulator backend shares (see the spec schemas). */
export interface SimulatorSpec {
  id: string;
  name?: string | undefined;
  backend: string;
  model: string;
  persona?: string | undefined;
  sampling?: Sampling | undefined;
  stop?: string[] | undefined;
  template: z.infer<typeof TemplateSchema>;
  narrator: boolean;
  emptyRetries: number;
  contextWindow?: number | undefined;
}

/** One completion request, as a simulator backend gets it. */
export interface CompletionRequest {
  prompt: string;
  /** Stop strings worth sending to the server (it may cap or ignore them; we cut on our side too). */
  stops: readonly string[];
  sampling: Sampling;
  /** 0 for the first try; n for the n-th retry of an empty turn (added to the seed so it differs). */
  retry: number;
}

/** The part that differs between completion endpoints. */
export interface CompletionBackend {
  turnConfig(options: AgentStreamOptions): RemoteTurnConfig;
  complete(req: CompletionRequest, ctx: CallContext): AsyncIterable<ProviderPart>;
  close?(): Promise<void>;
}

/** Base models stop early only when told; a turn of a few sentences fits in this. */
export const DEFAULT_SIMULATOR_MAX_TOKENS = 256;

/**
 * A base model acting as a participant: the transcript becomes a document (see document-view), the
 * model continues it after the speaker's tag, and the continuation is cut at the next tag even when
 * the server ignores stop strings. An empty continuation is asked again up to `emptyRetries` times.
 *
 * Narrator mode (`narrator: true`): the model is the author of the whole document rather than one
 * character. Its persona becomes the premise at the top, and it writes the turn of whichever
 * participant the arena asks for (`options.self`), so one simulator can speak for every participant.
 * Without it, the persona is this agent's own character sheet and it only speaks as itself.
 */
export function createSimulatorAgent(spec: SimulatorSpec, backend: CompletionBackend, logger: Logger): Agent {
  const template = resolveTemplate(spec.template);
  const name = spec.name ?? spec.id;
  return {
    id: spec.id,
    name,
    backend: spec.backend,
    model: spec.model,
    stream(options) {
      const sampling: Sampling = { ...spec.sampling, ...options.sampling };
      sampling.maxTokens ??= DEFAULT_SIMULATOR_MAX_TOKENS;
      const personas = spec.persona
        ? [{ name: spec.narrator ? 'Premise' : options.self.name, text: spec.persona }]
        : [];
      if (!spec.narrator && options.self.id !== spec.id) {
        logger.warn({ self: options.self.id }, 'asked to speak for another participant without narrator mode');
      }
      return remoteTurn(backend.turnConfig(options), async (turn) => {
        const prefill = options.prefill || undefined;
        const doc = buildDocument(options, {
          template,
          personas,
          contextWindow: spec.contextWindow,
          reservedTokens: sampling.maxTokens!,
          ...(prefill ? { prefill } : {}),
        });
        if (doc.trimmed) turn.push({ type: 'context-trimmed', ...doc.trimmed });
        const stops = [...new Set([...doc.stops, ...options.stop, ...(spec.stop ?? [])])];
        for (let retry = 0; ; retry++) {
          const result = await turn.call({
            stops,
            trim: true,
            // After a prefill the continuation's first blank may be the space between two words.
            ...(prefill ? { continuesPrefill: true } : {}),
            estimatedInputTokens: doc.estimatedTokens,
            run: (ctx) => backend.complete({ prompt: doc.prompt, stops, sampling, retry }, ctx),
          });
          // A prefilled turn has its text already: an empty continuation is not asked again.
          if (prefill || result.text.trim() !== '' || retry >= spec.emptyRetries) return result;
          logger.info({ turn: options.turn, retry: retry + 1 }, 'empty turn from the base model; asking again');
        }
      });
    },
    ...(backend.close ? { close: () => backend.close!() } : {}),
  };
}
