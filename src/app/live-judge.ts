import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { LimiterRegistry } from '../agents/limiter.js';
import { limiterRegistry } from '../agents/remote/setup.js';
import type { Scenario } from '../arena/scenario.js';
import { InputError, ScenarioError } from '../errors.js';
import { formatPath } from '../format-path.js';
import { createJudgeClient, loadRubricFile, rubricSet, type RubricFile, type RubricSet } from '../judge/index.js';
import { createLiveJudgeObserver } from '../judge/live-judge.js';
import type { RunObserver } from '../arena/observer.js';
import { parseYamlSource } from '../yaml-source.js';
import type { ScenarioOrigin } from './check-attractor-names.js';

export interface LiveJudgeSetupOptions extends ScenarioOrigin {
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  /** Rate limiters the run's agents share (a batch's); else the process's registry for `env`, as agents use. */
  limiters?: LimiterRegistry | undefined;
}

export interface LiveJudgeSetup {
  observer: RunObserver;
  rubric: RubricSet;
}

/**
 * The live judge a scenario's `judge:` section asks for, checked before the run starts: its rubric file read
 * and parsed, `only` matched against the rubric, its key and endpoint resolved. Any problem is a
 * ScenarioError at the place in the scenario file that caused it (`file:line:col: judge.rubric: …`).
 */
export async function liveJudgeForScenario(scenario: Scenario, options: LiveJudgeSetupOptions): Promise<LiveJudgeSetup | undefined> {
  const spec = scenario.judge;
  if (!spec) return undefined;
  const fail = async (path: (string | number)[], err: unknown): Promise<never> => {
    if (!(err instanceof InputError)) throw err;
    const full = ['judge', ...path];
    throw new ScenarioError(await locate(options.scenarioFile, full), formatPath(full), err.message, { cause: err });
  };

  let file: RubricFile | undefined;
  if (spec.rubric !== undefined) {
    try {
      file = await loadRubricFile(resolve(options.scenarioDir, spec.rubric));
    } catch (err) {
      await fail(['rubric'], err);
    }
  }
  let rubric: RubricSet;
  try {
    rubric = rubricSet({ file, only: spec.only });
  } catch (err) {
    return fail([spec.only ? 'only' : 'rubric'], err);
  }

  const at = spec.model.indexOf(':');
  const backend = spec.model.slice(0, at) as 'anthropic' | 'openai' | 'ollama';
  const model = spec.model.slice(at + 1).trim();
  const logger = options.logger.child({ component: 'live-judge' });
  let client;
  try {
    client = createJudgeClient(
      { backend, model, baseURL: spec.baseURL, apiKeyEnv: spec.apiKeyEnv, timeoutMs: spec.timeoutMs },
      { env: options.env, logger, ...(scenario.prices ? { prices: scenario.prices } : {}) },
    );
  } catch (err) {
    return fail(['model'], err);
  }
  const registry = limiterRegistry({ env: options.env, scenarioDir: options.scenarioDir, logger, ...(options.limiters ? { limiters: options.limiters } : {}) });
  const observer = createLiveJudgeObserver({
    client,
    rubric,
    every: spec.every,
    window: spec.window,
    minConfidence: spec.minConfidence,
    budgetUsd: spec.budgetUsd,
    waitAtEndMs: spec.waitAtEndSec * 1000,
    limiter: registry.get(client.limiterKey, spec.rateLimit ?? {}),
    logger,
  });
  return { observer, rubric };
}

/** `file:line:col` of `path` in the scenario file, or the file's name (or 'scenario') when it cannot be placed. */
async function locate(scenarioFile: string | undefined, path: readonly (string | number)[]): Promise<string> {
  if (scenarioFile === undefined) return 'scenario';
  let text: string;
  try {
    text = await readFile(scenarioFile, 'utf8');
  } catch {
    return scenarioFile;
  }
  try {
    return parseYamlSource(text, scenarioFile, () => {
      throw new Error('unparsable');
    }).locate(path);
  } catch {
    return scenarioFile;
  }
}
