import type { Logger } from 'pino';
import type { RunObserver } from '../arena/observer.js';
import type { Scenario } from '../arena/scenario.js';
import type { EmbedderKind } from '../analysis/embedder.js';
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
 * `runObservers` with the defaults, in the shape batch executors take (`observersFor`). A batch's process
 * pool names this module to its children, which import it: a function cannot be sent to another process.
 */
export function observersFor(scenario: Scenario, logger: Logger): Promise<RunObserver[]> {
  return runObservers(scenario, { logger });
}

/** This module's address, for `processPool({ observersModule })`. */
export const RUN_OBSERVERS_MODULE = import.meta.url;
