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
  /** Extension: answered from the record/replay cache (`--cache`); nothing was sent, and costUsd is 0. */
  replay: z.boolean().optional(),
  /** Extension: the turn was started from this text (`text` begins with it; the agent wrote the rest). */
  prefill: z.string().optional(),
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

/**
 * A matched lexicon term: the analyzer writes `{term, count}` in evidence and plain words in features;
 * readers accept either in both places.
 */
export const TermSchema = z.union([z.string(), z.looseObject({ term: z.string(), count: z.number().optional() })]);
export type Term = z.infer<typeof TermSchema>;

const perAttractor = z.record(z.string(), z.number());

/**
 * The `features` of an analysis.turn event: what the analyzer measured in a turn (src/analysis/analyzer.ts
 * writes them). Every key is optional (a log written before a key existed, or by another tool, still reads)
 * and keys not listed here are kept as they are, so a newer analyzer's features survive an older reader.
 */
export const AnalysisFeaturesSchema = z
  .object({
    /** Words, characters and emoji in the turn. */
    words: z.number(),
    chars: z.number(),
    emoji: z.number(),
    /** emoji / (words + emoji). */
    emojiShare: z.number(),
    /** Words said outside stage directions. */
    spokenWords: z.number(),
    /** Length against the opening turns', and the trend of the recent lengths. */
    lengthRatio: z.number(),
    lengthTrend: z.number(),
    /** Distinct words / words, distinct bigrams / bigrams. */
    distinct1: z.number(),
    distinct2: z.number(),
    /** Deflate ratio of the recent turns. */
    compression: z.number(),
    /** Shared trigrams with an earlier turn, and how many turns back that turn was. */
    overlap: z.number(),
    overlapLag: z.number(),
    /** Repeated trigrams within the turn. */
    selfRepeat: z.number(),
    /** Word-level similarity to one of the previous turns, and how far back the repeated lines came from. */
    echo: z.number(),
    repeatLag: z.number(),
    /** Structure: letters said, symbol share, repeated lines and line shapes, interface lines, address, narration. */
    letters: z.number(),
    symbolShare: z.number(),
    lineRepeat: z.number(),
    shapeRepeat: z.number(),
    interface: z.number(),
    address: z.number(),
    narration: z.number(),
    /** Per attractor: lexicon density (attractors with a lexicon). */
    lexicon: perAttractor,
    /** Per attractor: the turn's strongest matched terms. */
    terms: z.record(z.string(), z.array(TermSchema)),
    /** Per calibrated attractor: the gated hand-set signal (its score is the model's probability). */
    signals: perAttractor,
    /** The embedder behind the embedding features, or behind `embeddingError`. */
    embedder: z.string(),
    /** Embedding features: distance from the opening, from the previous turn, closeness to the other speaker. */
    drift: z.number(),
    step: z.number(),
    convergence: z.number().nullable(),
    /** Per attractor: cosine to its centroid. */
    similarity: perAttractor,
    /** Why the turn has no embedding features. */
    embeddingError: z.string(),
  })
  .partial()
  .catchall(z.unknown());
export type AnalysisFeatures = z.infer<typeof AnalysisFeaturesSchema>;

export const AnalysisTurnSchema = z.object({
  ...base,
  type: z.literal('analysis.turn'),
  turn: z.number().int().positive(),
  features: AnalysisFeaturesSchema,
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

/** A feature that pushed a calibrated detector's score up, with its value and its share of the score. */
export const DriverSchema = z.looseObject({ feature: z.string(), value: z.number(), contribution: z.number() });
export type Driver = z.infer<typeof DriverSchema>;

/**
 * The `evidence` of attractor.entered / attractor.exited: why the detector decided (src/analysis/analyzer.ts
 * writes it). Every key is optional and keys not listed are kept, as for AnalysisFeatures.
 */
export const AttractorEvidenceSchema = z
  .object({
    /** The turn whose score completed the run of turns: when the change could first be known. */
    detectedAt: z.number(),
    /** The turns of that run, and their scores. */
    turns: z.array(z.number()),
    scores: z.array(z.number()),
    /** With three or more speakers: who is in the state after this change. */
    speakers: z.array(z.string()),
    /** An onset dated back to where the repeated lines came from: the turn it was detected at. */
    backdatedFrom: z.number(),
    /** Calibrated attractors: which score decided, 'calibrated' (the model) or 'signal' (the hand-set signal). */
    route: z.string(),
    /** Calibrated entries: the features that pushed the score up most, strongest first. */
    drivers: z.array(DriverSchema),
    /** Entries: the terms matched most over the run of turns. */
    topTerms: z.array(TermSchema),
    /** Entries with embeddings: mean cosine of those turns to the attractor's centroid. */
    similarity: z.number(),
  })
  .partial()
  .catchall(z.unknown());
export type AttractorEvidence = z.infer<typeof AttractorEvidenceSchema>;

const attractorFields = {
  ...base,
  attractor: z.string(),
  turn: z.number().int().positive(),
  score: z.number(),
  // An event without evidence (the arena always writes one) still reads, as having none.
  evidence: AttractorEvidenceSchema.default({}),
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

/** One attractor as a judge model judged it over a window of turns. */
export const VerdictSchema = z.object({
  attractor: z.string().min(1),
  present: z.boolean(),
  /** The run's turn number where the attractor begins; null when absent (or when the judge could not place it). */
  onsetTurn: z.number().int().positive().nullable(),
  confidence: z.number().min(0).max(1),
  /** A short quote from the window. */
  evidence: z.string(),
});
export type Verdict = z.infer<typeof VerdictSchema>;

/** Why a judgement has no verdicts: the answer never fit the shape, the judge declined, or the call failed. */
export const JudgeFailureSchema = z.object({
  kind: z.enum(['malformed', 'refusal', 'error']),
  message: z.string(),
});
export type JudgeFailure = z.infer<typeof JudgeFailureSchema>;

/**
 * Extension: a judge model's reading of one window of turns against a rubric, appended to the log after the
 * run (so it may follow run.finished). Exactly one of `verdicts` and `failure`: a failed judgement is never
 * read as "absent".
 */
export const JudgementSchema = z
  .object({
    ...base,
    type: z.literal('judgement'),
    judge: z.object({ backend: z.string(), model: z.string() }),
    rubric: z.object({ name: z.string(), hash: z.string() }),
    /** First and last turn of the window, inclusive. */
    window: z.tuple([z.number().int().positive(), z.number().int().positive()]),
    verdicts: z.array(VerdictSchema).optional(),
    failure: JudgeFailureSchema.optional(),
    /**
     * Extension: a hash of what the window sent (its turns' numbers, speakers and texts, and the prompt's
     * version), so `arena judge` knows a judgement still fits the log and sends nothing again.
     */
    turnsHash: z.string().optional(),
    /** Extension: the answer came from the `--cache` folder; nothing was sent, `costUsd` is 0 and `usage` is what was recorded. */
    replay: z.literal(true).optional(),
    usage: UsageSchema,
    costUsd: z.number().nonnegative(),
  })
  .refine((e) => (e.verdicts === undefined) !== (e.failure === undefined), { message: 'a judgement has either verdicts or a failure, not both or neither' });

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
  JudgementSchema,
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
export type AnalysisTurn = EventOf<'analysis.turn'>;
export type AttractorEntered = EventOf<'attractor.entered'>;
export type AttractorExited = EventOf<'attractor.exited'>;
export type Judgement = EventOf<'judgement'>;
