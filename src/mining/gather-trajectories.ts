import { InputError } from '../errors.js';
import type { RunStarted } from '../runlog/events.js';
import { findLogsOrFail } from './find-logs.js';
import { groupKey, type Grouping } from './group-key.js';
import { emptySummary } from './run-summary.js';
import { readTurnVectors, trajectories, type TrajectoryOptions, type TrajectoryResult, type TrajectoryRun } from './trajectories.js';

export interface GatherTrajectoriesOptions extends TrajectoryOptions {
  paths: readonly string[];
  labels: readonly string[];
  /** How runs are grouped into conditions (as `stats` groups them). */
  grouping: Grouping;
  /** The embedding model whose vectors to use (default: the one most turns were embedded with). */
  model?: string;
  warn: (line: string) => void;
}

/**
 * Who speaks for each agent: in a batch run, the plan's model ids of its pairing (two scripted models of one
 * generator kind are different models there); elsewhere backend:model.
 */
function modelsOf(started: RunStarted): Map<string, string> {
  const cell = (started.meta as { cell?: { pairing?: unknown } } | undefined)?.cell;
  const pairing = cell?.pairing;
  if (Array.isArray(pairing) && pairing.length === started.agents.length && pairing.every((m) => typeof m === 'string')) {
    return new Map(started.agents.map((a, i) => [a.id, pairing[i] as string]));
  }
  return new Map(started.agents.map((a) => [a.id, `${a.backend}:${a.model}`]));
}

export type TrajectoryReading = TrajectoryResult & { embeddingModel: string; runsRead: number; runsWithout: number };

/**
 * Read the embedding events of every run under the folders and measure trajectories per condition.
 * undefined when no run holds embeddings (the caller says what to do about it).
 */
export async function readTrajectories(o: GatherTrajectoriesOptions): Promise<TrajectoryReading | undefined> {
  const files = await findLogsOrFail(o.paths, o.labels);
  const read = files.map((f) => readTurnVectors(f));
  for (const r of read) for (const p of r.problems) o.warn(p);
  const runs = read.filter((r) => r.started);
  const turnsPerModel = new Map<string, number>();
  for (const r of runs) for (const [m, t] of r.byModel) turnsPerModel.set(m, (turnsPerModel.get(m) ?? 0) + t.length);
  if (turnsPerModel.size === 0) return undefined;
  const model = o.model ?? [...turnsPerModel].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
  if (!turnsPerModel.has(model)) throw new InputError(`no turn was embedded with '${model}' (embedding models found: ${[...turnsPerModel.keys()].join(', ')})`);
  if (turnsPerModel.size > 1 && o.model === undefined) {
    o.warn(`turns were embedded with ${turnsPerModel.size} models (${[...turnsPerModel.keys()].join(', ')}): using ${model}, the one most turns have (choose with --embedding-model)`);
  }
  const used: TrajectoryRun[] = [];
  let without = 0;
  for (const r of runs) {
    const turns = r.byModel.get(model);
    if (!turns || turns.length === 0) {
      without++;
      continue;
    }
    const started = r.started!;
    const summary = { ...emptySummary(r.file), runId: started.runId, started };
    used.push({
      runId: started.runId,
      condition: groupKey(summary, o.grouping),
      scenario: typeof started.scenario.name === 'string' ? started.scenario.name : '(unnamed)',
      models: modelsOf(started),
      turns,
    });
  }
  return { ...trajectories(used, o), embeddingModel: model, runsRead: runs.length, runsWithout: without };
}
