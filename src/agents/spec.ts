import { z } from 'zod';
import { GeneratorSchema } from './scripted/spec.js';

/** Limits on one endpoint (and key variable), shared by every agent and judge that talks to it. */
export const RateLimitSchema = z.strictObject({
  /** Turns (or judge requests) streaming at once. */
  concurrency: z.number().int().positive().optional(),
  /** HTTP requests per minute, retries included. */
  requestsPerMinute: z.number().int().positive().optional(),
  /** Input + output tokens per minute (input estimated before the request, corrected after). */
  tokensPerMinute: z.number().int().positive().optional(),
});

export const SamplingSchema = z.strictObject({
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  topK: z.number().int().positive().optional(),
  maxTokens: z.number().int().positive().optional(),
  seed: z.number().int().optional(),
  presencePenalty: z.number().optional(),
  frequencyPenalty: z.number().optional(),
});

/** Fields every agent has, whatever drives it. */
const common = {
  /** Stable id used in the run log; letters, digits, '-' and '_'. */
  id: z.string().regex(/^[A-Za-z0-9_-]+$/, 'use letters, digits, - and _ only'),
  /** Display name (defaults to the id). */
  name: z.string().min(1).optional(),
  /** Persona: the system prompt of a chat model, the character sheet of a simulator. */
  persona: z.string().optional(),
  sampling: SamplingSchema.optional(),
  /** Texts this agent says verbatim as its first turn(s), before its backend is asked. */
  opening: z.union([z.string(), z.array(z.string())]).optional(),
  /** The user message a chat agent gets when it speaks first (the transcript is empty). */
  kickoff: z.string().optional(),
  /** Extra stop strings for this agent. */
  stop: z.array(z.string()).optional(),
  /**
   * Every turn this agent generates starts with this text and the backend continues it (Anthropic
   * assistant prefill, a final assistant message elsewhere, the document itself for simulators).
   */
  prefill: z.string().min(1).optional(),
};

/** Connection and reliability settings shared by model backends. */
const remote = {
  model: z.string().min(1),
  /** Endpoint; defaults to the provider's environment variable (ANTHROPIC_BASE_URL, OPENAI_BASE_URL, OLLAMA_HOST). */
  baseURL: z.string().url().optional(),
  /** Name of the environment variable holding the key (the key itself never goes in a scenario). */
  apiKeyEnv: z.string().optional(),
  maxRetries: z.number().int().nonnegative().default(2),
  /** Silence allowed in the middle of a response (and the cap on the wait for its first byte). */
  timeoutMs: z.number().int().positive().default(120_000),
  /**
   * Wait for a response to begin (its headers) before the attempt counts as failed; see
   * `firstByteTimeoutMs()` for the default.
   */
  firstByteTimeoutMs: z.number().int().positive().optional(),
  /** Context window in tokens; the history is trimmed (oldest first, after the opening) to fit. */
  contextWindow: z.number().int().positive().optional(),
  /**
   * Limits shared by every agent (in every run given the same limiter registry) that talks to the same
   * endpoint with the same key variable; the strictest value wins.
   */
  rateLimit: RateLimitSchema.optional(),
};

export const ScriptedAgentSchema = z.strictObject({
  ...common,
  backend: z.literal('scripted'),
  generator: GeneratorSchema,
});

export const AnthropicAgentSchema = z.strictObject({
  ...common,
  ...remote,
  backend: z.literal('anthropic'),
  /**
   * Extended thinking, recorded apart from the text: a token budget for the model's reasoning, or
   * `adaptive: true` for models that decide the budget themselves (newer Claude models prefer it).
   */
  thinking: z
    .union([z.strictObject({ budgetTokens: z.number().int().min(1024) }), z.strictObject({ adaptive: z.literal(true) })])
    .optional(),
  /** Cache the long shared prefix of the conversation (prompt caching). */
  cache: z.boolean().default(true),
});

export const OpenAIAgentSchema = z.strictObject({
  ...common,
  ...remote,
  backend: z.literal('openai'),
});

export const OllamaAgentSchema = z.strictObject({
  ...common,
  ...remote,
  backend: z.literal('ollama'),
});

/** How a base model sees the conversation: a document it continues. */
export const TemplateSchema = z.union([
  z.enum(['chat', 'screenplay', 'irc', 'story']),
  z.strictObject({
    /** Text before the first turn; {participants} and {personas} are filled in. */
    header: z.string().default(''),
    /** How one turn is written; {name} and {text} are filled in. Must start with the speaker tag. */
    turn: z.string().default('{name}: {text}'),
    /** Between turns. */
    separator: z.string().default('\n'),
    /** How a narrator's or operator's line is written; {text} is filled in. */
    narration: z.string().default('[{text}]'),
  }),
]);

const simulator = {
  ...remote,
  template: TemplateSchema.default('chat'),
  /** One base model writes every participant's turns (this agent speaks for all). */
  narrator: z.boolean().default(false),
  /** How often an empty turn is asked again before it is recorded as empty. */
  emptyRetries: z.number().int().nonnegative().default(2),
};

export const OpenAICompletionsAgentSchema = z.strictObject({
  ...common,
  ...simulator,
  backend: z.literal('openai-completions'),
});

export const OllamaGenerateAgentSchema = z.strictObject({
  ...common,
  ...simulator,
  backend: z.literal('ollama-generate'),
});

export const LlamaCppAgentSchema = z.strictObject({
  ...common,
  ...simulator,
  model: z.string().default('gguf'),
  backend: z.literal('llama-cpp'),
  /** Path to a GGUF file, relative to the scenario file. */
  modelPath: z.string(),
  /** CPU threads llama.cpp evaluates with (default: its own choice, the machine's math cores). */
  threads: z.number().int().positive().optional(),
  /** GPU to offload to; `false` (default) runs on the CPU. Only prebuilt binaries are used, nothing is built. */
  gpu: z.union([z.literal(false), z.enum(['auto', 'cuda', 'vulkan', 'metal'])]).default(false),
});

export const AgentSpecSchema = z.discriminatedUnion('backend', [
  ScriptedAgentSchema,
  AnthropicAgentSchema,
  OpenAIAgentSchema,
  OllamaAgentSchema,
  OpenAICompletionsAgentSchema,
  OllamaGenerateAgentSchema,
  LlamaCppAgentSchema,
]);
export type AgentSpec = z.infer<typeof AgentSpecSchema>;
export type Backend = AgentSpec['backend'];
export const BACKENDS: readonly Backend[] = AgentSpecSchema.options.map((o) => o.shape.backend.value);

/** Typing helper for agents written in TypeScript; returns its argument. */
export function defineAgent<A extends z.input<typeof AgentSpecSchema>>(agent: A): A {
  return agent;
}

/**
 * Default wait for a response to begin. Streaming APIs send their headers as soon as they take a request,
 * before the first token, so a healthy hosted API answers within seconds even under load; a provider that
 * has said nothing for 30 s is hung, and with the default two retries a dead endpoint costs a turn 1.5 minutes
 * instead of 6. Ollama answers only once the model is loaded, which for a large model on a slow disk takes
 * tens of seconds, so its backends wait 90 s.
 */
export const FIRST_BYTE_TIMEOUT_MS = { hosted: 30_000, ollama: 90_000 } as const;

/** The wait for the first byte an agent gets: its own setting, else the default, never more than timeoutMs. */
export function firstByteTimeoutMs(spec: { backend: string; timeoutMs: number; firstByteTimeoutMs?: number | undefined }): number {
  if (spec.firstByteTimeoutMs !== undefined) return spec.firstByteTimeoutMs;
  const fallback = spec.backend.startsWith('ollama') ? FIRST_BYTE_TIMEOUT_MS.ollama : FIRST_BYTE_TIMEOUT_MS.hosted;
  return Math.min(spec.timeoutMs, fallback);
}
