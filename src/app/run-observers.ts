import type { Logger } from 'pino';
import type { RunObserver } from '../arena/observer.js';
import type { Scenario } from '../arena/scenario.js';
import { EMBEDDER_KINDS, type EmbedderKind } from '../analysis/embedder.js';
import { InputError } from '../errors.js';
import type { LimiterRegistry } from '../agents/limiter.js';
import { checkAttractorNames, type ScenarioOrigin } from './check-attractor-names.js';

/** What building a run's live observers needs besides the scenario. */
export interface RunObserversOptions extends Partial<ScenarioOrigin> {
  /** Operational log; embedding failures are warned about here. */
  logger: Logger;
  /** Embeddings for the live analysis; `none` (default) keeps it text-only. */
  embeddings?: EmbedderKind;
  /** Where embedders read their keys and addresses (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Rate limiters the run's agents share, for the live judge's endpoint (default: the process's, by `env`). */
  limiters?: LimiterRegistry;
}

/**
 * The live observers a run of `scenario` gets, as `arena run`, `arena batch` and `arena worker` give them:
 * the live judge of its `judge:` section is set up (its rubric, key and model checked: a ScenarioError names
 * the place), the attractor names of `stop.onAttractor` are checked against the scenario's detectors and the
 * judge's rubric (an InputError names the first unknown one), then the analysis observer (with its embedder)
 * is built. Pass the result as `startRun({ observers })`. The scenario folder defaults to the working directory.
 */
export async function runObservers(scenario: Scenario, options: RunObserversOptions): Promise<RunObserver[]> {
  const scenarioDir = options.scenarioDir ?? process.cwd();
  const origin = { scenarioDir, ...(options.scenarioFile !== undefined ? { scenarioFile: options.scenarioFile } : {}) };
  // Loaded on first use: commands that never run a conversation should not pay for the analysis code.
  const { analysisObserverForScenario } = await import('../analysis/scenario-observer.js');
  const judge = scenario.judge
    ? await (await import('./live-judge.js')).liveJudgeForScenario(scenario, { ...origin, env: options.env ?? process.env, logger: options.logger, limiters: options.limiters })
    : undefined;
  await checkAttractorNames(scenario, origin, judge?.rubric.entries.map((e) => e.name));
  const observer = await analysisObserverForScenario(scenario, {
    scenarioDir,
    embeddings: options.embeddings ?? 'none',
    env: options.env ?? process.env,
    onError: (err) => options.logger.warn({ err }, 'embedding failed; the turn is analysed from its text alone'),
  });
  return [...(observer ? [observer] : []), ...(judge ? [judge.observer] : [])];
}

/**
 * The environment variable that turns embeddings on for the live analysis of runs that are not told (batch
 * runs, fork children, queue workers' runs): `arena batch --embeddings K` and `arena fork --embeddings K` set
 * it for their runs and their process pool's children; workers take it from their own environment.
 */
export const EMBEDDINGS_ENV = 'ARENA_EMBEDDINGS';

/** The embedder `ARENA_EMBEDDINGS` names in `env` (`none` when unset); another value is an InputError naming `label`. */
export function embeddingsFromEnv(env: Readonly<Record<string, string | undefined>>, label = EMBEDDINGS_ENV): EmbedderKind {
  const value = env[EMBEDDINGS_ENV]?.trim();
  if (!value) return 'none';
  const kind = EMBEDDER_KINDS.find((k) => k === value);
  if (!kind) throw new InputError(`${label} must be one of ${EMBEDDER_KINDS.join(', ')}, got '${value}'`);
  return kind;
}

/** What a batch run's observers are built with besides its scenario (RunCellDeps passes its own). */
export interface ObserversContext extends Partial<ScenarioOrigin> {
  /** The environment the run's agents read (the CLI's, `.env` included): the live judge reads its key there. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The rate limiters the run's agents share, shared with the live judge. */
  limiters?: LimiterRegistry;
}

/**
 * `runObservers` in the shape batch executors take (`observersFor`): the live judge reads the run's
 * environment and shares its limiters, and the analysis embeds with what `ARENA_EMBEDDINGS` in that
 * environment names (default none). A batch's process pool names this module to its children, which import
 * it: a function cannot be sent to another process.
 */
export function observersFor(scenario: Scenario, logger: Logger, context: ObserversContext = {}): Promise<RunObserver[]> {
  const env = context.env ?? process.env;
  return runObservers(scenario, {
    logger,
    env,
    embeddings: embeddingsFromEnv(env),
    ...(context.limiters ? { limiters: context.limiters } : {}),
    ...(context.scenarioDir !== undefined ? { scenarioDir: context.scenarioDir } : {}),
    ...(context.scenarioFile !== undefined ? { scenarioFile: context.scenarioFile } : {}),
  });
}

/** This module's address, for `processPool({ observersModule })`. */
export const RUN_OBSERVERS_MODULE = import.meta.url;
