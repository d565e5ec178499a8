import { AgentSpecSchema, type AgentSpec } from '../agents/spec.js';
import { ScenarioSchema, type Scenario } from '../arena/scenario.js';
import { InputError } from '../errors.js';
import { formatPath } from '../format-path.js';
import type { RunStarted } from '../runlog/events.js';

/** Fields of an agent that belong to the persona, kept when its backend is replaced. */
const PERSONA_FIELDS = ['name', 'persona', 'sampling', 'opening', 'kickoff', 'stop'] as const;

/** `<id>=<backend>:<model>` (the `--agent` flag) as [id, `<backend>:<model>`]. */
export function parseAgentOverride(text: string): [string, string] {
  const m = /^([^=\s]+)=([^:\s]+):(\S.*)$/.exec(text);
  if (!m) throw new InputError(`--agent expects <id>=<backend>:<model>, got '${text}'`);
  return [m[1]!, `${m[2]}:${m[3]}`];
}

/**
 * The agent `spec` with its backend replaced by `<backend>:<model>`: id and persona fields stay; a model of
 * the same backend keeps the connection settings (baseURL, key variable, rate limits); a scripted backend's
 * "model" names its generator kind (`scripted:echo`).
 */
export function replaceBackend(spec: AgentSpec, backendModel: string): AgentSpec {
  const colon = backendModel.indexOf(':');
  const backend = backendModel.slice(0, colon);
  const model = backendModel.slice(colon + 1);
  const kept: Record<string, unknown> = { id: spec.id };
  for (const key of PERSONA_FIELDS) if (spec[key] !== undefined) kept[key] = spec[key];
  let next: Record<string, unknown>;
  if (backend === 'scripted') next = { ...kept, backend, generator: { kind: model } };
  else if (backend === spec.backend) next = { ...spec, model };
  else next = { ...kept, backend, model };
  const parsed = AgentSpecSchema.safeParse(next);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`--agent ${spec.id}=${backendModel}: ${issue.path.length > 0 ? `${formatPath(issue.path)}: ` : ''}${issue.message}`);
  }
  return parsed.data;
}

/** What a child changes in its parent's scenario. */
export interface ChildChanges {
  seed: number;
  /** Turn limit of the child (turns copied from the parent count). Defaults to the parent's. */
  maxTurns?: number;
  /** Agent id → `<backend>:<model>`. */
  agents?: Record<string, string>;
  /** Scripted agents stream without their pause between chunks. */
  fast?: boolean;
}

/** The scenario a parent ran, as its run.started recorded it; a one-line InputError when it does not validate. */
export function parentScenario(started: RunStarted, file: string): Scenario {
  const parsed = ScenarioSchema.safeParse(started.scenario);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${file}: the scenario recorded in run.started is not valid: ${formatPath(issue.path)}: ${issue.message}`);
  }
  return parsed.data;
}

/** The parent's scenario with a child's seed, turn limit and agents. */
export function childScenario(parent: Scenario, changes: ChildChanges): Scenario {
  const ids = parent.agents.map((a) => a.id);
  for (const id of Object.keys(changes.agents ?? {})) {
    if (!ids.includes(id)) throw new InputError(`--agent: no agent '${id}' in the parent run (agents: ${ids.join(', ')})`);
  }
  const agents = parent.agents.map((a) => {
    const replaced = changes.agents?.[a.id];
    const spec = replaced === undefined ? a : replaceBackend(a, replaced);
    return changes.fast && spec.backend === 'scripted' ? { ...spec, generator: { ...spec.generator, chunkDelayMs: 0 } } : spec;
  });
  return {
    ...parent,
    seed: changes.seed,
    agents,
    limits: { ...parent.limits, ...(changes.maxTurns !== undefined ? { maxTurns: changes.maxTurns } : {}) },
  };
}
