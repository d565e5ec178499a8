import { z } from 'zod';
import { ArenaError } from '../errors.js';
import type { RunStarted } from '../runlog/events.js';
import { hashSeed } from '../seeded-random.js';

/**
 * The fork contract: what a forked run's `run.started` says about where it came from, in `meta.fork`
 * (DESIGN.md, "Run log contract"). `arena fork`, fork plans, `arena stats --forks` and the viewer's fork tree
 * all read it through this module. Fields may be added, never removed.
 */

/** A message written into the child's conversation right after the fork turn, as the narrator or an agent. */
export const InjectPerturbationSchema = z.strictObject({
  text: z.string().min(1),
  /** 'narrator' or an agent id. */
  as: z.string().min(1),
});

/** The child's first generated turn starts from this text (the speaker's, or `agentId`'s if given). */
export const PrefillPerturbationSchema = z.strictObject({
  text: z.string().min(1),
  agentId: z.string().min(1).optional(),
});

/**
 * What differs in a child from its parent, besides its seed; several parts may be combined. null in
 * `meta.fork` means a plain resample: same conversation up to the fork turn, a different seed after it.
 */
export const PerturbationSchema = z
  .strictObject({
    inject: InjectPerturbationSchema.optional(),
    prefill: PrefillPerturbationSchema.optional(),
    /** Agents whose backend changes for the generated turns: agent id → `<backend>:<model>`. */
    agents: z.record(z.string(), z.string().regex(/^[^:]+:.+$/, 'expected <backend>:<model>')).optional(),
  })
  .refine((p) => p.inject !== undefined || p.prefill !== undefined || (p.agents !== undefined && Object.keys(p.agents).length > 0), {
    message: 'a perturbation sets inject, prefill and/or agents (leave it out, or null, for a plain resample)',
  });
export type Perturbation = z.infer<typeof PerturbationSchema>;

export const ForkMetaSchema = z.object({
  /** The run this one was forked from. */
  parentRunId: z.string().min(1),
  /** The parent's run folder, relative to this run's folder (`../../<runsDir>/<runId>`), to open it from the child. */
  parentRunDir: z.string().min(1),
  /** Turns 1..atTurn were copied from the parent's log; turn atTurn + 1 is the first this run generated. */
  atTurn: z.number().int().positive(),
  /** 1-based number of this child among the children of the same parent, fork turn and condition. */
  sample: z.number().int().positive(),
  perturbation: PerturbationSchema.nullable(),
  /** `conditionOf(perturbation)`: a short stable label that groups children alike (`resample`, `inject:narrator:…`). */
  condition: z.string().min(1),
  /** What this child's seed was derived from (see `childSeed`): `arena fork --seed`, else the parent's seed. */
  baseSeed: z.number().int(),
});
export type ForkMeta = z.infer<typeof ForkMetaSchema>;

/** A `meta.fork` that is there but does not read as one. */
export class ForkMetaError extends ArenaError {
  override name = 'ForkMetaError';
}

/**
 * The fork facts of a run, from its run.started: undefined for a run that is not a fork, the parsed
 * `meta.fork` otherwise. A `meta.fork` that is malformed throws ForkMetaError (naming the run and the field),
 * so a reader never mistakes a broken fork for a run of its own.
 */
export function forkMetaOf(started: Pick<RunStarted, 'runId' | 'meta'>): ForkMeta | undefined {
  const raw = started.meta?.fork;
  if (raw === undefined) return undefined;
  const parsed = ForkMetaSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ForkMetaError(`run ${started.runId}: meta.fork${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${issue.message}`);
}

/**
 * The label children of one condition share: `resample` for a plain resample, else the perturbation's parts
 * in a fixed order (`inject:<as>:<text>`, `prefill:<agent>:<text>`, `agents:<id>=<backend:model>,…`) joined by
 * ` + `. Texts longer than 40 characters are cut and given a hash, so labels stay short and distinct.
 */
export function conditionOf(perturbation: Perturbation | null): string {
  if (perturbation === null) return 'resample';
  const short = (text: string) => (text.length <= 40 ? text : `${text.slice(0, 40)}…#${hashSeed(text).toString(16).padStart(8, '0')}`);
  const parts: string[] = [];
  if (perturbation.inject) parts.push(`inject:${perturbation.inject.as}:${short(perturbation.inject.text)}`);
  if (perturbation.prefill) parts.push(`prefill:${perturbation.prefill.agentId ?? '(speaker)'}:${short(perturbation.prefill.text)}`);
  if (perturbation.agents) {
    const agents = Object.entries(perturbation.agents).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    parts.push(`agents:${agents.map(([id, m]) => `${id}=${m}`).join(',')}`);
  }
  return parts.join(' + ');
}

/**
 * A child's seed: FNV-1a of (base seed, 'fork', atTurn, sample), as a non-negative 31-bit integer. Children of
 * one parent differ from each other and from the parent, and a rerun with the same base seed gets the same
 * seeds. The condition does not enter: sample k of every condition at turn T shares its seed, so conditions
 * differ by their perturbation alone.
 */
export function childSeed(baseSeed: number, atTurn: number, sample: number): number {
  return hashSeed(baseSeed, 'fork', atTurn, sample) & 0x7fffffff;
}
