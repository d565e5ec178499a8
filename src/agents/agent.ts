import type { Logger } from 'pino';
import type { Sleep } from '../clock.js';
import type { Usage } from '../usage.js';
import type { LimiterRegistry } from './limiter.js';
import type { ModelCallCache } from './remote/call-cache.js';

/** One entry of the shared conversation, as every agent sees it before its own view is built. */
export interface TranscriptEntry {
  /** The turn this text belongs to; an injected text carries the turn it follows (0 = before turn 1). */
  turn: number;
  /** Agent id of the speaker, or 'narrator' for an operator's narration. */
  speakerId: string;
  /** Display name of the speaker. */
  speaker: string;
  text: string;
  /** 'turn' for a generated turn, 'inject' for an operator's message, 'perturb' for a detector's. */
  kind: 'turn' | 'inject' | 'perturb';
}

export interface Participant {
  id: string;
  name: string;
}

/** Sampling parameters; a backend ignores what it cannot honour and says so in its docs. */
export interface Sampling {
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTokens?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
}

export interface AgentStreamOptions {
  /** The whole shared conversation so far, oldest first. */
  transcript: readonly TranscriptEntry[];
  /** The agent that is to speak. */
  self: Participant;
  /** Everyone in the conversation, in speaking order, including self. */
  participants: readonly Participant[];
  /** The 1-based turn being generated. */
  turn: number;
  /** Aborted when the run is stopped; a backend must stop streaming promptly. */
  signal: AbortSignal;
  sampling: Sampling;
  /** Strings that end the turn when the model writes them (not included in the text). */
  stop: readonly string[];
  /** Run seed; deterministic generators derive their randomness from it. */
  seed: number;
  /**
   * The turn starts with this text and the backend continues it. The stream yields only the
   * continuation; the caller puts the prefill in front (the turn's text is prefill + continuation).
   */
  prefill?: string;
}

export type FinishReason =
  | 'stop' // the model ended its turn
  | 'stop_sequence' // a stop string (e.g. the next speaker's tag) was hit
  | 'length' // max tokens reached
  | 'end' // a scripted generator has nothing more to say
  | 'content_filter'
  | 'refusal'
  | 'other';

/** What an agent stream yields. Exactly one `finish` ends a successful stream. */
export type AgentStreamPart =
  | { type: 'text-delta'; text: string }
  | { type: 'thinking-delta'; text: string }
  | {
      type: 'finish';
      reason: FinishReason;
      usage: Usage;
      /** Cost of the whole turn in USD (all attempts), when the backend knows prices. */
      costUsd?: number;
      /** Attempts the backend made, counting the one that succeeded. */
      attempts?: number;
      /** Every answer of the turn came from the record/replay cache: nothing was sent, nothing paid. */
      replay?: boolean;
    }
  | {
      /** An attempt failed. willRetry=false means the turn is lost and the stream ends. */
      type: 'error';
      error: unknown;
      attempt: number;
      willRetry: boolean;
    }
  | {
      /** The history was cut to fit the context window. */
      type: 'context-trimmed';
      droppedTurns: number[];
      estimatedTokens?: number;
      contextWindow?: number;
    };

/** One shape for every backend: chat models, base-model simulators, scripted generators. */
export interface Agent {
  readonly id: string;
  readonly name: string;
  /** 'scripted', 'anthropic', 'openai', 'ollama', … */
  readonly backend: string;
  /** Model name, or the generator kind for scripted agents. */
  readonly model: string;
  stream(options: AgentStreamOptions): AsyncIterable<AgentStreamPart>;
  /** Release sockets, workers or model handles. */
  close?(): Promise<void>;
}

/** Everything an agent may need from outside, passed in so tests can replace it. */
export interface AgentDeps {
  /** Environment (keys, endpoints); defaults to process.env merged with .env by the CLI. */
  env: Readonly<Record<string, string | undefined>>;
  /** Folder of the scenario file; relative paths in agent specs resolve against it. */
  scenarioDir: string;
  logger: Logger;
  /** fetch used by SDK clients (tests inject one that records or faults). */
  fetch?: typeof globalThis.fetch;
  /** Sleep for streaming pace and for the wait before a retry; tests pass one that resolves at once. */
  sleep?: Sleep;
  /** Prices per million tokens by model, overriding the built-in table. */
  prices?: Record<string, { input: number; output: number; cacheRead?: number; cacheWrite?: number }>;
  /**
   * Rate limiters shared across runs (a batch passes one registry to all its runs). Without it, agents
   * created with the same deps object share limiters with each other only.
   */
  limiters?: LimiterRegistry;
  /**
   * Record/replay cache of model calls over HTTP. Without it, the cache `ARENA_CACHE_DIR` names in `env`
   * (if any) is used.
   */
  cache?: ModelCallCache;
}
