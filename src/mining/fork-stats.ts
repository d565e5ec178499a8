import { wilson } from '../stats/wilson.js';

/** The condition of a fork that changed nothing but the seed; listed first. */
export const RESAMPLE = 'resample';

/**
 * Statistics over forks (children of a run that share its first T turns and go on from there): the
 * commitment curve, and persistence and recovery after a perturbation.
 *
 * A run is "in" an attractor at turn t when an `attractor.entered` at or before t has no `attractor.exited`
 * at or before t. A child's copied turns carry its parent's analysis, so the state at the fork turn T is the
 * parent's.
 */

/** One stay in an attractor: entered at `enter`, left at `exit` (the first turn no longer in it), or never left. */
export interface Episode {
  enter: number;
  exit?: number;
}

/** What fork statistics need to know about one run. */
export interface RunEpisodes {
  runId: string;
  /** The last completed turn. */
  lastTurn: number;
  /** Attractor → its stays, in order. */
  episodes: ReadonlyMap<string, readonly Episode[]>;
}

export interface ForkChild extends RunEpisodes {
  parentRunId: string;
  atTurn: number;
  /** A stable label of what the fork changed (`meta.fork.condition`: 'resample' for a plain resample). */
  perturbation: string;
}

export interface ForkParent extends RunEpisodes {
  /** The condition the parent belongs to: children are pooled per condition across parents. */
  condition: string;
}

export interface ForkStatsOptions {
  /** Attractors to report (default: every attractor any parent or child entered). */
  attractors?: readonly string[];
  /** Persistence is read this many turns after the fork turn (default 5). */
  persistenceTurns?: number;
  /** The share a commitment curve must stay at or above to call the conversation committed (default 0.9). */
  commitThreshold?: number;
}

/** A share with its Wilson 95% interval. */
export interface Share {
  k: number;
  n: number;
  share: number | null;
  ci: [number, number] | null;
}

export interface CurvePoint extends Share {
  atTurn: number;
  /** Whether the parent itself was in the attractor at the fork turn (pooled: the share of parents that were). */
  parentInAt: boolean | number;
}

export interface CommitmentCurve {
  attractor: string;
  perturbation: string;
  /** Per fork turn: the children that are in the attractor at some turn after the fork. */
  points: CurvePoint[];
  /**
   * The first fork turn from which the share stays at or above the threshold at this and every later fork
   * turn; null when it never does.
   */
  committedFrom: number | null;
}

export interface Persistence {
  attractor: string;
  perturbation: string;
  atTurn: number;
  /** Children whose conversation was in the attractor at the fork turn (the only ones persistence speaks of). */
  inAtFork: number;
  /** Of those that ran at least `persistenceTurns` turns past the fork: still in it `persistenceTurns` turns later. */
  persistence: Share;
  /** Of those: not in it at their last turn (they left and did not come back). */
  recovery: Share;
}

export interface ForkGroupStats {
  children: number;
  curves: CommitmentCurve[];
  persistence: Persistence[];
}

export interface ForkStats {
  attractors: string[];
  persistenceTurns: number;
  commitThreshold: number;
  parents: (ForkGroupStats & { parentRunId: string; condition: string })[];
  conditions: (ForkGroupStats & { condition: string; parents: number })[];
  /** Children whose parent was not among the runs read. */
  orphans: number;
}

/** Whether the run is in the attractor at turn t. */
export function inAt(episodes: readonly Episode[] | undefined, t: number): boolean {
  return (episodes ?? []).some((e) => e.enter <= t && (e.exit === undefined || e.exit > t));
}

/** Whether the run is in the attractor at some turn in (after, last]. */
export function inAfter(episodes: readonly Episode[] | undefined, after: number, last: number): boolean {
  if (last <= after) return false;
  return (episodes ?? []).some((e) => {
    const from = Math.max(e.enter, after + 1);
    return from <= last && (e.exit === undefined || e.exit > from);
  });
}

function share(k: number, n: number): Share {
  return { k, n, share: n > 0 ? Math.round((k / n) * 10_000) / 10_000 : null, ci: n > 0 ? (wilson(k, n).map((x) => Math.round(x * 10_000) / 10_000) as [number, number]) : null };
}

function groupStats(children: readonly ForkChild[], parentIn: (c: ForkChild, attractor: string) => boolean, attractors: readonly string[], K: number, threshold: number): ForkGroupStats {
  const perturbations = [...new Set(children.map((c) => c.perturbation))].sort((a, b) => (a === RESAMPLE ? -1 : b === RESAMPLE ? 1 : a.localeCompare(b)));
  const turns = [...new Set(children.map((c) => c.atTurn))].sort((a, b) => a - b);
  const curves: CommitmentCurve[] = [];
  const persistence: Persistence[] = [];
  for (const attractor of attractors) {
    for (const perturbation of perturbations) {
      const points: CurvePoint[] = [];
      for (const atTurn of turns) {
        const cell = children.filter((c) => c.perturbation === perturbation && c.atTurn === atTurn);
        if (cell.length === 0) continue;
        const k = cell.filter((c) => inAfter(c.episodes.get(attractor), atTurn, c.lastTurn)).length;
        const parentsOf = new Map(cell.map((c) => [c.parentRunId, parentIn(c, attractor)]));
        const inCount = [...parentsOf.values()].filter(Boolean).length;
        const parentInAt = parentsOf.size === 1 ? inCount === 1 : Math.round((inCount / parentsOf.size) * 10_000) / 10_000;
        points.push({ atTurn, parentInAt, ...share(k, cell.length) });

        const wasIn = cell.filter((c) => inAt(c.episodes.get(attractor), atTurn));
        const ranLong = wasIn.filter((c) => c.lastTurn >= atTurn + K);
        if (wasIn.length > 0) {
          persistence.push({
            attractor,
            perturbation,
            atTurn,
            inAtFork: wasIn.length,
            persistence: share(ranLong.filter((c) => inAt(c.episodes.get(attractor), atTurn + K)).length, ranLong.length),
            recovery: share(ranLong.filter((c) => !inAt(c.episodes.get(attractor), c.lastTurn)).length, ranLong.length),
          });
        }
      }
      let committedFrom: number | null = null;
      for (let i = points.length - 1; i >= 0; i--) {
        const s = points[i]!.share;
        if (s === null || s < threshold) break;
        committedFrom = points[i]!.atTurn;
      }
      curves.push({ attractor, perturbation, points, committedFrom });
    }
  }
  return { children: children.length, curves, persistence };
}

/** Commitment curves, persistence and recovery, per parent and pooled per condition. */
export function forkStatistics(parents: readonly ForkParent[], children: readonly ForkChild[], options: ForkStatsOptions = {}): ForkStats {
  const K = Math.max(1, options.persistenceTurns ?? 5);
  const threshold = options.commitThreshold ?? 0.9;
  const byId = new Map(parents.map((p) => [p.runId, p]));
  const known = children.filter((c) => byId.has(c.parentRunId));
  const attractors =
    options.attractors !== undefined
      ? [...options.attractors]
      : [...new Set([...parents, ...known].flatMap((r) => [...r.episodes].filter(([, e]) => e.length > 0).map(([a]) => a)))].sort();
  // The parent's state at the fork turn, read from the parent itself (a child's copied turns say the same).
  const parentIn = (c: ForkChild, attractor: string) => inAt(byId.get(c.parentRunId)!.episodes.get(attractor), c.atTurn);

  const perParent = new Map<string, ForkChild[]>();
  for (const c of known) perParent.set(c.parentRunId, [...(perParent.get(c.parentRunId) ?? []), c]);
  const perCondition = new Map<string, ForkChild[]>();
  for (const c of known) {
    const cond = byId.get(c.parentRunId)!.condition;
    perCondition.set(cond, [...(perCondition.get(cond) ?? []), c]);
  }
  return {
    attractors,
    persistenceTurns: K,
    commitThreshold: threshold,
    parents: [...perParent]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([parentRunId, list]) => ({ parentRunId, condition: byId.get(parentRunId)!.condition, ...groupStats(list, parentIn, attractors, K, threshold) })),
    conditions: [...perCondition]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([condition, list]) => ({ condition, parents: new Set(list.map((c) => c.parentRunId)).size, ...groupStats(list, parentIn, attractors, K, threshold) })),
    orphans: children.length - known.length,
  };
}

/** The stays in each attractor, folded from a log's attractor.entered / attractor.exited events in seq order. */
export class EpisodeFolder {
  readonly episodes = new Map<string, Episode[]>();
  lastTurn = 0;

  add(e: { type: string; attractor?: string; turn?: number }): void {
    if (e.type === 'turn.completed' && e.turn !== undefined) this.lastTurn = Math.max(this.lastTurn, e.turn);
    else if (e.type === 'attractor.entered' && e.attractor !== undefined && e.turn !== undefined) {
      const list = this.episodes.get(e.attractor) ?? [];
      const open = list.at(-1);
      if (!open || open.exit !== undefined) list.push({ enter: e.turn });
      this.episodes.set(e.attractor, list);
    } else if (e.type === 'attractor.exited' && e.attractor !== undefined && e.turn !== undefined) {
      const open = this.episodes.get(e.attractor)?.at(-1);
      if (open && open.exit === undefined) open.exit = e.turn;
    }
  }
}
