import { z } from 'zod';
import { AgentSpecSchema, RateLimitSchema } from '../agents/spec.js';

export const TurnPolicySchema = z.enum(['alternate', 'round-robin', 'random']);
export type TurnPolicy = z.infer<typeof TurnPolicySchema>;

export const AttractorActionSchema = z.discriminatedUnion('action', [
  /** Only record the onset. */
  z.strictObject({ action: z.literal('record'), attractor: z.string().default('*') }),
  /** Stop the run N turns after the onset. */
  z.strictObject({
    action: z.literal('stop'),
    attractor: z.string().default('*'),
    afterTurns: z.number().int().nonnegative().default(0),
  }),
  /** Inject a perturbation message, drawn with the run's seed from `messages`. */
  z.strictObject({
    action: z.literal('perturb'),
    attractor: z.string().default('*'),
    messages: z.array(z.string()).min(1),
    as: z.string().default('narrator'),
  }),
]);
export type AttractorAction = z.infer<typeof AttractorActionSchema>;

/** Backends a live judge may use (those of `arena judge --judge`). */
const JUDGE_BACKENDS = ['anthropic', 'openai', 'ollama'] as const;

/**
 * A judge model that reads the conversation every `every` turns while it runs; a present verdict at or above
 * `minConfidence` applies `stop.onAttractor` as a detector's entry does (src/judge/live-judge.ts).
 */
export const LiveJudgeSchema = z
  .strictObject({
    /** BACKEND:MODEL, as `arena judge --judge` takes it (keys, base URLs and proxies from the same variables). */
    model: z.string(),
    /** Judge after every this many completed turns (turn every, 2·every, …). */
    every: z.number().int().positive(),
    /** Turns sent each time: the last `window` turns (default: every turn so far). */
    window: z.number().int().positive().optional(),
    /** A rubric YAML file (relative to the scenario's folder), as `arena judge --rubric`. */
    rubric: z.string().min(1).optional(),
    /** Attractors to judge, as `arena judge --only` (default: every rubric). */
    only: z.array(z.string().min(1)).min(1).optional(),
    /** A present verdict with at least this confidence triggers onAttractor. */
    minConfidence: z.number().min(0).max(1).default(0.7),
    /** Stop asking once this run's live judgements would cost more than this (USD). */
    budgetUsd: z.number().nonnegative().optional(),
    /** When the run ends with a judgement in flight, wait this long for it before cancelling it. */
    waitAtEndSec: z.number().nonnegative().default(30),
    baseURL: z.string().optional(),
    apiKeyEnv: z.string().optional(),
    /** Per request; default 120 s. */
    timeoutMs: z.number().int().positive().optional(),
    /** Shared with every agent (and judge) of the process on the same endpoint and key variable. */
    rateLimit: RateLimitSchema.optional(),
  })
  .superRefine((j, ctx) => {
    const at = j.model.indexOf(':');
    const backend = at > 0 ? j.model.slice(0, at) : '';
    if (at < 0 || j.model.slice(at + 1).trim() === '' || !(JUDGE_BACKENDS as readonly string[]).includes(backend)) {
      ctx.addIssue({ code: 'custom', path: ['model'], message: `expected BACKEND:MODEL with BACKEND one of ${JUDGE_BACKENDS.join(', ')}, got ${JSON.stringify(j.model)}` });
    }
  });
export type LiveJudgeSpec = z.infer<typeof LiveJudgeSchema>;

export const ScenarioSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    agents: z.array(AgentSpecSchema).min(1),
    /** Id of the agent who speaks first; defaults to the first agent. */
    first: z.string().optional(),
    turnPolicy: TurnPolicySchema.default('alternate'),
    limits: z
      .strictObject({
        maxTurns: z.number().int().positive().default(30),
        wallTimeSec: z.number().positive().optional(),
        /** Input + output tokens over the whole run. */
        maxTokens: z.number().int().positive().optional(),
        maxCostUsd: z.number().nonnegative().optional(),
      })
      .prefault({}),
    stop: z
      .strictObject({
        /** The run ends when any agent writes one of these (the backrooms `^C^C`). */
        endTokens: z.array(z.string().min(1)).default([]),
        /** The run ends after this many consecutive empty turns of one agent. */
        emptyTurns: z.number().int().positive().optional(),
        /** What to do when a detector reports an attractor. */
        onAttractor: z.array(AttractorActionSchema).default([]),
      })
      .prefault({}),
    /**
     * Wait for a model's response to begin before the attempt counts as failed, for every model agent that
     * does not set its own (the default is 30 s, 90 s for Ollama backends).
     */
    firstByteTimeoutMs: z.number().int().positive().optional(),
    /** Attractor detectors to run live (names from the attractor library); [] for none. */
    detectors: z.array(z.string()).optional(),
    /** A judge model scoring the conversation while it runs (see LiveJudgeSchema). */
    judge: LiveJudgeSchema.optional(),
    /** Prices per million tokens, overriding the built-in table: { model: { input, output } }. */
    prices: z
      .record(
        z.string(),
        z.strictObject({
          input: z.number().nonnegative(),
          output: z.number().nonnegative(),
          cacheRead: z.number().nonnegative().optional(),
          cacheWrite: z.number().nonnegative().optional(),
        }),
      )
      .optional(),
    seed: z.number().int().default(1),
  })
  .superRefine((s, ctx) => {
    const ids = new Set<string>();
    s.agents.forEach((a, i) => {
      if (ids.has(a.id)) ctx.addIssue({ code: 'custom', path: ['agents', i, 'id'], message: `duplicate agent id '${a.id}'` });
      if (a.id === 'narrator') ctx.addIssue({ code: 'custom', path: ['agents', i, 'id'], message: `'narrator' is reserved` });
      ids.add(a.id);
    });
    if (s.first !== undefined && !ids.has(s.first)) {
      ctx.addIssue({ code: 'custom', path: ['first'], message: `no agent with id '${s.first}' (agents: ${[...ids].join(', ')})` });
    }
    if (s.turnPolicy === 'alternate' && s.agents.length > 2) {
      ctx.addIssue({ code: 'custom', path: ['turnPolicy'], message: `'alternate' needs exactly two agents; use round-robin or random for ${s.agents.length}` });
    }
    s.stop.onAttractor.forEach((a, i) => {
      if (a.action === 'perturb' && a.as !== 'narrator' && !ids.has(a.as)) {
        ctx.addIssue({ code: 'custom', path: ['stop', 'onAttractor', i, 'as'], message: `no agent with id '${a.as}'` });
      }
    });
  });

export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;

/** Typing helper for scenarios written in TypeScript; returns its argument. */
export function defineScenario<S extends ScenarioInput>(scenario: S): S {
  return scenario;
}
