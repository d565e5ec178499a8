import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { forkMetaOf, type ForkMeta } from '../fork/fork-meta.js';
import { eventsFileOf } from '../runlog/layout.js';
import type { ArenaEvent, RunStarted } from '../runlog/events.js';
import { findLogsOrFail } from './find-logs.js';
import { EpisodeFolder, forkStatistics, type ForkChild, type ForkParent, type ForkStats, type ForkStatsOptions } from './fork-stats.js';
import { groupKey, type Grouping } from './group-key.js';
import { emptySummary } from './run-summary.js';
import { readLogBytes, scanEvents } from './scan-log.js';

const WANTED = new Set(['run.started', 'turn.completed', 'attractor.entered', 'attractor.exited']);

/** One log as fork statistics read it: its start, its stays in attractors, its last turn. */
interface ReadRun {
  file: string;
  started: RunStarted;
  fork: ForkMeta | undefined;
  folder: EpisodeFolder;
}

function readRun(file: string, warn: (line: string) => void): ReadRun | undefined {
  const bytes = readLogBytes(file, warn);
  if (!bytes) return undefined;
  const problems: string[] = [];
  let started: RunStarted | undefined;
  const folder = new EpisodeFolder();
  scanEvents(bytes, file, (type) => !WANTED.has(type), (e: ArenaEvent) => {
    if (e.type === 'run.started') started ??= e;
    else folder.add(e);
  }, problems);
  for (const p of problems) warn(p);
  if (!started) return undefined;
  let fork: ForkMeta | undefined;
  try {
    fork = forkMetaOf(started);
  } catch (err) {
    warn(`${file}: ${err instanceof Error ? err.message : String(err)}: read as an ordinary run`);
  }
  return { file, started, fork, folder };
}

export interface GatherForksOptions extends ForkStatsOptions {
  paths: readonly string[];
  labels: readonly string[];
  /** How parents are grouped into conditions (as `stats` groups runs). */
  grouping: Grouping;
  warn: (line: string) => void;
}

/**
 * Read every run under the folders, find the forks among them (`meta.fork`) and their parents (among the
 * runs read, else at `meta.fork.parentRunDir`), and compute commitment curves, persistence and recovery.
 * Fails with one line when no run under the folders is a fork.
 */
export async function gatherForks(o: GatherForksOptions): Promise<ForkReading> {
  const found = await readForks(o);
  if (!found) throw new InputError(`no forks under ${o.labels.join(', ')}: no run there has meta.fork (make some with arena fork, or a batch plan's forks)`);
  return found;
}

export type ForkReading = ForkStats & { parentsRead: number; childrenRead: number };

/** As gatherForks, but undefined when no run under the folders is a fork (the report then has no fork section). */
export async function readForks(o: GatherForksOptions): Promise<ForkReading | undefined> {
  const files = await findLogsOrFail(o.paths, o.labels);
  const runs = files.flatMap((f) => readRun(f, o.warn) ?? []);
  const byId = new Map(runs.map((r) => [r.started.runId, r]));
  const forks = runs.filter((r) => r.fork !== undefined);
  if (forks.length === 0) return undefined;
  // A parent outside the folders is read from where its children say it is.
  for (const child of forks) {
    const meta = child.fork!;
    if (byId.has(meta.parentRunId)) continue;
    const file = eventsFileOf(resolve(dirname(child.file), meta.parentRunDir));
    const parent = readRun(file, o.warn);
    if (parent && parent.started.runId === meta.parentRunId) byId.set(meta.parentRunId, parent);
    else o.warn(`${child.file}: its parent ${meta.parentRunId} is neither under ${o.labels.join(', ')} nor at ${file}: left out`);
  }
  const episodes = (r: ReadRun) => ({ runId: r.started.runId, lastTurn: r.folder.lastTurn, episodes: r.folder.episodes });
  const parentIds = new Set(forks.map((c) => c.fork!.parentRunId).filter((id) => byId.has(id)));
  const parents: ForkParent[] = [...parentIds].map((id) => {
    const r = byId.get(id)!;
    const summary = { ...emptySummary(r.file), runId: id, started: r.started };
    return { ...episodes(r), condition: groupKey(summary, o.grouping) };
  });
  const children: ForkChild[] = forks.map((c) => ({ ...episodes(c), parentRunId: c.fork!.parentRunId, atTurn: c.fork!.atTurn, perturbation: c.fork!.condition }));
  const stats = forkStatistics(parents, children, o);
  return { ...stats, parentsRead: parents.length, childrenRead: children.length };
}
