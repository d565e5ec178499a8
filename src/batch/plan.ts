import { z } from 'zod';

/**
 * A model a pairing can put in an agent's seat: an agent spec without the persona fields
 * (`backend` plus what that backend needs: `model`, `baseURL`, `rateLimit`, or a scripted `generator`).
 */
export const ModelEntrySchema = z
  .looseObject({
    /** Name used in pairings, run ids and summaries. */
    id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, ., - and _ only'),
    backend: z.string().min(1),
  })
  .refine((m) => !('name' in m || 'persona' in m || 'opening' in m || 'kickoff' in m), {
    message: 'a model entry sets the backend only; name, persona, opening and kickoff stay with the scenario agent',
  });
export type ModelEntry = z.infer<typeof ModelEntrySchema>;

export const PairingsSchema = z
  .strictObject({
    /** Every model against itself (all seats the same model). */
    selfPlay: z.boolean().default(false),
    /** Every unordered pair of different models (two-agent scenarios). */
    mixedPlay: z.boolean().default(false),
    /** Chosen pairings: one model id per scenario agent, in the scenario's agent order. */
    pairs: z.array(z.array(z.string()).min(1)).default([]),
  })
  .refine((p) => p.selfPlay || p.mixedPlay || p.pairs.length > 0, { message: 'choose selfPlay, mixedPlay and/or pairs' });

/**
 * One condition of a plan's forks: `{}` resamples (only the seed changes), `inject` writes a message after the
 * fork turn (as the narrator unless `as` names an agent), `agents` gives agents another backend for the
 * generated turns (`<id>: <backend>:<model>`), `prefill` starts the first generated turn from the given text.
 */
export const PlanPerturbationSchema = z
  .strictObject({
    inject: z.string().min(1).optional(),
    as: z.string().min(1).optional(),
    prefill: z.string().min(1).optional(),
    agents: z.record(z.string(), z.string().regex(/^[^:]+:.+$/, 'expected <backend>:<model>')).optional(),
  })
  .refine((p) => p.as === undefined || p.inject !== undefined, { message: '`as` says who an injected message is from; give `inject` too', path: ['as'] });
export type PlanPerturbation = z.infer<typeof PlanPerturbationSchema>;

/**
 * Fork runs of the batch once they finish: each chosen run, at each turn of `at`, into `samples` children per
 * condition (`perturbations`; a plain resample when left out). Children are runs of the same batch.
 */
export const PlanForksSchema = z.strictObject({
  at: z.array(z.number().int().positive()).min(1),
  samples: z.number().int().positive().default(1),
  perturbations: z.array(PlanPerturbationSchema).min(1).optional(),
  /** Which runs to fork: 1-based run numbers, run ids, or run-id patterns with `*`. Default: every run. */
  runs: z.array(z.union([z.number().int().positive(), z.string().min(1)])).min(1).optional(),
  /** Turn limit of the children (copied turns count); defaults to their parent's. */
  maxTurns: z.number().int().positive().optional(),
});
export type PlanForks = z.infer<typeof PlanForksSchema>;

export const BatchPlanSchema = z
  .strictObject({
    /** Used in the batch id. Defaults to the plan file's name. */
    name: z.string().min(1).optional(),
    /** Scenario files, relative to the plan file. */
    scenarios: z.array(z.string().min(1)).min(1),
    /** Models the pairings choose from. Without models, each scenario runs with its own agents. */
    models: z.array(ModelEntrySchema).default([]),
    pairings: PairingsSchema.optional(),
    repetitions: z.number().int().positive().default(1),
    /** Values crossed with everything else; each list gives one cell per value. */
    parameters: z
      .strictObject({
        /** Sampling temperature set on every agent. */
        temperature: z.array(z.number().min(0).max(2)).min(1).optional(),
        /** Scenario seed; without it, repetition r uses the scenario's seed + r - 1. */
        seed: z.array(z.number().int()).min(1).optional(),
      })
      .prefault({}),
    /** Overrides every scenario's turn limit. */
    maxTurns: z.number().int().positive().optional(),
    /** Runs at once (the --concurrency flag overrides it). */
    concurrency: z.number().int().positive().default(4),
    budget: z
      .strictObject({
        /** No new run starts when spent + projected cost would pass this. */
        maxCostUsd: z.number().nonnegative(),
        /** Projected cost of a run until some runs of this batch have finished and their mean is known. */
        estimatePerRunUsd: z.number().nonnegative().optional(),
      })
      .optional(),
    limits: z
      .strictObject({
        /** After this, no run starts and running runs are interrupted (resumable). */
        wallTimeSec: z.number().positive().optional(),
      })
      .prefault({}),
    /** Fork the batch's runs once they finish (see PlanForksSchema). */
    forks: PlanForksSchema.optional(),
  })
  .superRefine((plan, ctx) => {
    const ids = new Set<string>();
    plan.models.forEach((m, i) => {
      if (ids.has(m.id)) ctx.addIssue({ code: 'custom', path: ['models', i, 'id'], message: `duplicate model id '${m.id}'` });
      ids.add(m.id);
    });
    if (plan.pairings && plan.models.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['pairings'], message: 'pairings need a models list' });
    }
    plan.pairings?.pairs.forEach((pair, i) => {
      pair.forEach((id, j) => {
        if (!ids.has(id)) {
          ctx.addIssue({ code: 'custom', path: ['pairings', 'pairs', i, j], message: `no model '${id}' (models: ${[...ids].join(', ')})` });
        }
      });
    });
  });

export type BatchPlan = z.infer<typeof BatchPlanSchema>;
export type BatchPlanInput = z.input<typeof BatchPlanSchema>;

/** Typing helper for plans written in TypeScript; returns its argument. */
export function definePlan<P extends BatchPlanInput>(plan: P): P {
  return plan;
}
