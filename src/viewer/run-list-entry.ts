import type { ArenaEvent, RunStarted } from '../runlog/events.js';
import { forkMetaOf } from '../fork/fork-meta.js';
import { GridCellSchema, type GridCell, type RunFork, type RunListEntry, type ViewerRunStatus } from './protocol.js';

/** A run-list line being built from a run's events. */
export interface ListEntryState {
  runId: string;
  dir: string;
  batch: string | null;
  live: boolean;
  status: ViewerRunStatus;
  finished: boolean;
  scenario: string | null;
  agents: { id: string; name: string }[];
  turns: number;
  lastSeq: number;
  attractors: Set<string>;
  seen: Set<string>;
  /** First onset turn of every attractor entered. */
  onsets: Map<string, number>;
  cell: GridCell | null;
  /** Where the run was forked from, when it is a fork. */
  fork: RunFork | null;
  updatedAt: string | null;
}

export function emptyListEntry(runId: string, dir: string, batch: string | null, live: boolean): ListEntryState {
  return {
    runId,
    dir,
    batch,
    live,
    status: 'starting',
    finished: false,
    scenario: null,
    agents: [],
    turns: 0,
    lastSeq: 0,
    attractors: new Set(),
    seen: new Set(),
    onsets: new Map(),
    cell: null,
    fork: null,
    updatedAt: null,
  };
}

/**
 * Fold one event into a run-list entry. Returns true when something a run list shows changed (status,
 * turns, attractors, names) — seq and time alone do not count, so busy runs do not flood viewers.
 */
export function foldListEntry(s: ListEntryState, event: ArenaEvent): boolean {
  if (event.type === 'turn.delta' || event.type === 'turn.waiting') return false;
  if (event.seq > s.lastSeq) s.lastSeq = event.seq;
  s.updatedAt = event.ts;
  switch (event.type) {
    case 'run.started': {
      const name = event.scenario['name'];
      s.scenario = typeof name === 'string' ? name : s.scenario;
      s.agents = event.agents.map((a) => ({ id: a.id, name: a.name }));
      const cell = GridCellSchema.safeParse(event.meta?.['cell']);
      s.cell = cell.success ? cell.data : null;
      s.fork = forkOf(event);
      return setStatus(s, 'running') || true;
    }
    case 'run.resumed':
      s.finished = false;
      return setStatus(s, 'running');
    case 'turn.completed':
      if (event.turn > s.turns) {
        s.turns = event.turn;
        return true;
      }
      return false;
    case 'attractor.entered': {
      const had = s.attractors.has(event.attractor) && s.seen.has(event.attractor);
      s.attractors.add(event.attractor);
      s.seen.add(event.attractor);
      if (!s.onsets.has(event.attractor)) s.onsets.set(event.attractor, event.turn);
      return !had;
    }
    case 'attractor.exited':
      return s.attractors.delete(event.attractor);
    case 'intervention':
      if (event.kind === 'pause') return setStatus(s, 'paused');
      if (event.kind === 'resume') return setStatus(s, 'running');
      return false;
    case 'run.finished':
      s.finished = true;
      s.turns = event.turns;
      return setStatus(s, event.status) || true;
    case 'turn.started':
    case 'turn.failed':
    case 'context.trimmed':
    case 'analysis.turn':
    case 'embedding':
      return s.status === 'starting' ? setStatus(s, 'running') : false;
    case 'judgement':
      // Appended after the run, by `arena judge`: it changes nothing the list shows.
      return false;
    default: {
      const unreachable: never = event;
      return Boolean(unreachable);
    }
  }
}

/** The fork facts the list shows; a malformed `meta.fork` lists the run as it is, without a parent. */
function forkOf(started: RunStarted): RunFork | null {
  try {
    const fork = forkMetaOf(started);
    return fork ? { parentRunId: fork.parentRunId, atTurn: fork.atTurn, sample: fork.sample, condition: fork.condition } : null;
  } catch {
    return null;
  }
}

function setStatus(s: ListEntryState, status: ViewerRunStatus): boolean {
  if (s.status === status) return false;
  s.status = status;
  return true;
}

/** The list line of a run; `children` is how many listed runs were forked from it. */
export function toRunListEntry(s: ListEntryState, children = 0): RunListEntry {
  return {
    runId: s.runId,
    dir: s.dir,
    batch: s.batch,
    live: s.live,
    status: s.status,
    scenario: s.scenario,
    agents: s.agents,
    turns: s.turns,
    lastSeq: s.lastSeq,
    attractors: [...s.attractors],
    seenAttractors: [...s.seen],
    updatedAt: s.updatedAt,
    onsets: [...s.onsets].map(([attractor, turn]) => ({ attractor, turn })),
    cell: s.cell,
    fork: s.fork,
    children,
  };
}
