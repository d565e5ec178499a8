import { z } from 'zod';
import type { Usage } from '../usage.js';

/**
 * The run-log contract (see DESIGN.md). Each line of events.jsonl is one of these objects.
 * Fields may be added, never removed. Parsing strips fields this version does not know, so newer logs stay readable.
 */
export const SCHEMA_VERSION = 1 as const;

const base = {
  v: z.literal(SCHEMA_VERSION),
  seq: z.number().int().nonnegative(),
  ts: z.string(),
  runId: z.string().min(1),
};

export const UsageSchema = z.object({
  inputTokens: z.number().nonnegative(),
  outputTokens: z.number().nonnegative(),
  cacheReadTokens: z.number().nonnegative().optional(),
  cacheWriteTokens: z.number().nonnegative().optional(),
  reasoningTokens: z.number().nonnegative().optional(),
}) satisfies z.ZodType<Usage>;

export const ErrorInfoSchema = z.object({
  name: z.string(),
  message: z.string(),
  status: z.number().optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

export const AgentInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  backend: z.string(),
  model: z.string(),
});
export type AgentInfo = z.infer<typeof AgentInfoSchema>;

export const LimitsSchema = z.object({
  maxTurns: z.number().int().positive(),
  wallTimeSec: z.number().positive().optional(),
  maxTokens: z.number().int().positive().optional(),
  maxCostUsd: z.number().nonnegative().optional(),
});
export type Limits = z.infer<typeof LimitsSchema>;

export const RunStartedSchema = z.object({
  ...base,
  type: z.literal('run.started'),
  scenario: z.record(z.string(), z.unknown()),
  agents: z.array(AgentInfoSchema),
  seed: z.number(),
  limits: LimitsSchema,
  /** Where the turns came from when the run was imported rather than run here. */
  source: z.record(z.string(), z.unknown()).optional(),
  /** Absolute path of the scenario file, so a resumed run finds the files it names. */
  scenarioFile: z.string().optional(),
  /** Extra facts about the run, e.g. the batch and matrix cell it belongs to. */
  meta: z.record(z.string(), z.unknown()).optional(),
});

/** Extension: a killed or interrupted run was continued by `arena resume`. */
export const RunResumedSchema = z.object({
  ...base,
  type: z.literal('run.resumed'),
  fromTurn: z.number().int().nonnegative(),
  truncatedTail: z.boolean(),
});

export const TurnStartedSchema = z.object({
  ...base,
  type: z.literal('turn.started'),
  turn: z.number().int().positive(),
  agentId: z.string(),
});

export const TurnDeltaSchema = z.object({
  ...base,
  type: z.literal('turn.delta'),
  turn: z.number().int().positive(),
  agentId: z.string(),
  text: z.string(),
  /** Index of this delta within its turn; deltas share the seq of the last persisted event. */
  i: z.number().int().nonnegative().optional(),
  /** 'text' (default) or 'thinking' for extended-thinking deltas. */
  channel: z.enum(['text', 'thinking']).optional(),
});

/**
 * Extension, live only (never written to the log): a turn whose current attempt has produced nothing yet,
 * sent about once a second while it waits, so terminals and viewers can show that it is waiting, for how
 * long, and on which attempt. Carries the seq of the last persisted event, like a live delta.
 */
export const TurnWaitingSchema = z.object({
  ...base,
  type: z.literal('turn.waiting'),
  turn: z.number().int().positive(),
  agentId: z.string(),
  /** The attempt being waited for (1-based; retries included). */
  attempt: z.number().int().positive(),
  /** Since the turn started. */
  elapsedMs: z.number().nonnegative(),
  /** Since this attempt started. */
  attemptElapsedMs: z.number().nonnegative(),
});

export const TurnCompletedSchema = z.object({
  ...base,
  type: z.literal('turn.completed'),
  turn: z.number().int().positive(),
  agentId: z.string(),
  text: z.string(),
  finishReason: z.string(),
  usage: UsageSchema,
  costUsd: z.number().nonnegative(),
  latencyMs: z.number().nonnegative(),
  attempts: z.number().int().positive(),
  /** Extended thinking, kept apart from the visible text. */
  thinking: z.string().optional(),
  /** True when the turn has no visible text (after trimming whitespace). */
  empty: z.boolean().optional(),
});

export const TurnFailedSchema = z.object({
  ...base,
  type: z.literal('turn.failed'),
  turn: z.number().int().positive(),
  agentId: z.string(),
  attempt: z.number().int().positive(),
  error: ErrorInfoSchema,
  willRetry: z.boolean(),
  /** Text streamed before the failure, if any; never counted as a turn. */
  partialText: z.string().optional(),
  /** Extension: the turn was cut short by a stop (user, Ctrl-C, a limit), not by a fault of the agent. */
  aborted: z.literal(true).optional(),
});

/** Extension: the history sent to an agent was cut to fit its context window. */
export const ContextTrimmedSchema = z.object({
  ...base,
  type: z.literal('context.trimmed'),
  turn: z.number().int().positive(),
  agentId: z.string(),
  droppedTurns: z.array(z.number().int()),
  estimatedTokens: z.number().nonnegative().optional(),
  contextWindow: z.number().positive().optional(),
});

export const AnalysisTurnSchema = z.object({
  ...base,
  type: z.literal('analysis.turn'),
  turn: z.number().int().positive(),
  features: z.record(z.string(), z.unknown()),
  scores: z.record(z.string(), z.number()),
});

/**
 * Extension: a turn's text embedding, cached in the log so analysis never embeds a turn twice.
 * `vector` is base64 of little-endian float32 values; `model` names the embedder (`offline:use-lite`).
 */
export const EmbeddingEventSchema = z.object({
  ...base,
  type: z.literal('embedding'),
  turn: z.number().int().positive(),
  agentId: z.string(),
  model: z.string(),
  dims: z.number().int().positive(),
  vector: z.string(),
});

const attractorFields = {
  ...base,
  attractor: z.string(),
  turn: z.number().int().positive(),
  score: z.number(),
  evidence: z.unknown(),
};
export const AttractorEnteredSchema = z.object({ ...attractorFields, type: z.literal('attractor.entered') });
export const AttractorExitedSchema = z.object({ ...attractorFields, type: z.literal('attractor.exited') });

export const InterventionKindSchema = z.enum(['inject', 'pause', 'resume', 'stop', 'perturb']);
export type InterventionKind = z.infer<typeof InterventionKindSchema>;

export const InterventionSchema = z.object({
  ...base,
  type: z.literal('intervention'),
  /** The last completed turn when the intervention happened (an injected text follows that turn). */
  turn: z.number().int().nonnegative(),
  kind: InterventionKindSchema,
  by: z.string(),
  text: z.string().optional(),
  /** For inject/perturb: who the text is attributed to: 'narrator' or an agent id. */
  as: z.string().optional(),
});

export const RunStatusSchema = z.enum(['completed', 'stopped', 'failed', 'interrupted']);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const TotalsSchema = z.object({
  inputTokens: z.number().nonnegative(),
  outputTokens: z.number().nonnegative(),
  costUsd: z.number().nonnegative(),
  failedAttempts: z.number().int().nonnegative(),
  wallTimeMs: z.number().nonnegative(),
});
export type Totals = z.infer<typeof TotalsSchema>;

export const RunFinishedSchema = z.object({
  ...base,
  type: z.literal('run.finished'),
  status: RunStatusSchema,
  stopReason: z.string(),
  turns: z.number().int().nonnegative(),
  totals: TotalsSchema,
  error: ErrorInfoSchema.optional(),
});

export const ArenaEventSchema = z.discriminatedUnion('type', [
  RunStartedSchema,
  RunResumedSchema,
  TurnStartedSchema,
  TurnDeltaSchema,
  TurnWaitingSchema,
  TurnCompletedSchema,
  TurnFailedSchema,
  ContextTrimmedSchema,
  AnalysisTurnSchema,
  EmbeddingEventSchema,
  AttractorEnteredSchema,
  AttractorExitedSchema,
  InterventionSchema,
  RunFinishedSchema,
]);

export type ArenaEvent = z.infer<typeof ArenaEventSchema>;
export type ArenaEventType = ArenaEvent['type'];
export type EventOf<T extends ArenaEventType> = Extract<ArenaEvent, { type: T }>;

/** An event before the log stamps it: everything but v, seq, ts and runId. */
export type EventBody<E extends ArenaEvent = ArenaEvent> = E extends ArenaEvent
  ? Omit<E, 'v' | 'seq' | 'ts' | 'runId'>
  : never;

export type RunStarted = EventOf<'run.started'>;
export type TurnCompleted = EventOf<'turn.completed'>;
export type TurnFailed = EventOf<'turn.failed'>;
export type RunFinished = EventOf<'run.finished'>;
export type Intervention = EventOf<'intervention'>;
