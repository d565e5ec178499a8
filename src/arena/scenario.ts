import { z } from 'zod';
import { AgentSpecSchema } from '../agents/spec.js';

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
