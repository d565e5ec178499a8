import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { Scenario } from '../arena/scenario.js';
import { runState } from '../arena/run-state.js';
import { publicScenario } from '../arena/run.js';
import { InputError, RunLogError } from '../errors.js';
import type { AgentInfo, ArenaEvent, EventBody, RunStarted } from '../runlog/events.js';
import { eventsFileOf } from '../runlog/layout.js';
import { LineScanner } from '../runlog/line-scanner.js';
import { readRunLogBytes } from '../runlog/reader.js';
import { EventStamper } from '../runlog/stamp.js';
import { conditionOf, type ForkMeta, type Perturbation } from './fork-meta.js';

/** A parent run as a fork reads it: its events with the text of their lines, and its completed turns. */
export interface ParentLog {
  file: string;
  started: RunStarted;
  /** Completed turns (1..turns, each once). */
  turns: number;
  lines: { event: ArenaEvent; text: string }[];
}

/**
 * Read a parent's log. A log that is not a run log, or whose turns are missing or repeated, is a RunLogError;
 * a cut-off last line (a crash mid-write) is left out as every reader leaves it out.
 */
export async function readParentLog(file: string): Promise<ParentLog> {
  const bytes = await readRunLogBytes(file);
  const lines: ParentLog['lines'] = [];
  new LineScanner().scanAll(bytes, (event, text) => lines.push({ event, text }));
  const state = runState(
    lines.map((l) => l.event),
    file,
  );
  return { file, started: state.started, turns: state.turn, lines };
}

/** The parent has turn `atTurn` completed, or a one-line InputError says how many it has. */
export function checkForkTurn(parent: ParentLog, atTurn: number): void {
  if (!Number.isInteger(atTurn) || atTurn < 1) throw new InputError(`${parent.file}: the fork turn must be a whole number ≥ 1, got ${atTurn}`);
  if (atTurn > parent.turns) {
    throw new InputError(`${parent.file}: run ${parent.started.runId} has ${parent.turns} completed turn(s); cannot fork at turn ${atTurn}`);
  }
}

/**
 * Whether a parent's event belongs to the prefix a child copies: the turns 1..atTurn (started, failed
 * attempts, completed, trimmed context), their analysis and embeddings, attractor changes the detectors
 * knew of by turn atTurn, and interventions made before turn atTurn (one made after turn atTurn belongs to
 * the parent's continuation). run.started/resumed/finished, judgements and streamed tokens are not copied.
 */
export function inPrefix(event: ArenaEvent, atTurn: number): boolean {
  switch (event.type) {
    case 'turn.started':
    case 'turn.completed':
    case 'turn.failed':
    case 'context.trimmed':
    case 'analysis.turn':
    case 'embedding':
      return event.turn <= atTurn;
    case 'attractor.entered':
    case 'attractor.exited':
      return (event.evidence.detectedAt ?? event.turn) <= atTurn;
    case 'intervention':
      return event.turn < atTurn;
    case 'run.started':
    case 'run.resumed':
    case 'run.finished':
    case 'turn.delta':
    case 'turn.waiting':
    case 'judgement':
      return false;
    default: {
      const never: never = event;
      throw new Error(`unknown event ${JSON.stringify(never)}`);
    }
  }
}

/** What the copied turns cost, as the child's log holds them (a batch does not count it as the child's spending). */
export function copiedCostUsd(events: readonly ArenaEvent[], atTurn: number): number {
  let cost = 0;
  for (const e of events) if (e.type === 'turn.completed' && e.turn <= atTurn) cost += e.costUsd;
  return cost;
}

/** How a child's agents are described in its run.started: the parent's words for agents it keeps. */
export function childAgentInfos(scenario: Scenario, parent: RunStarted): AgentInfo[] {
  return scenario.agents.map((a) => {
    const model = a.backend === 'scripted' ? a.generator.kind : a.model;
    const before = parent.agents.find((p) => p.id === a.id);
    if (before && before.backend === a.backend && before.model === model) return before;
    return { id: a.id, name: a.name ?? a.id, backend: a.backend, model };
  });
}

/** Everything needed to write a child's log before it continues. */
export interface ChildLogSpec {
  runId: string;
  runDir: string;
  parent: ParentLog;
  parentRunDir: string;
  atTurn: number;
  sample: number;
  perturbation: Perturbation | null;
  /** What the child's seed derives from (default: the parent's seed). */
  baseSeed?: number;
  /** The child's scenario (seed, turn limit and agents of the child). */
  scenario: Scenario;
  scenarioFile?: string;
  /** Other run.started meta (a batch's batchId and cell); `fork` is added. */
  meta?: Record<string, unknown>;
  now?: () => Date;
}

/** The child's `meta.fork`. */
export function forkMeta(spec: Pick<ChildLogSpec, 'runDir' | 'parent' | 'parentRunDir' | 'atTurn' | 'sample' | 'perturbation' | 'baseSeed'>): ForkMeta {
  return {
    parentRunId: spec.parent.started.runId,
    parentRunDir: relative(spec.runDir, spec.parentRunDir) || '.',
    atTurn: spec.atTurn,
    sample: spec.sample,
    perturbation: spec.perturbation,
    condition: conditionOf(spec.perturbation),
    baseSeed: spec.baseSeed ?? spec.parent.started.seed,
  };
}

/**
 * Write a child's events.jsonl: its own run.started (with `meta.fork`), then the parent's prefix re-stamped
 * with the child's runId and seq (each event keeps its ts and every field of its line, unknown ones too, so
 * turn texts are byte-identical), then the injected message as an `intervention` at turn atTurn, if any.
 * The file appears whole or not at all (written aside, synced, renamed), so a kill leaves no half prefix; the
 * child then continues as `arena resume` continues a run, from turn atTurn + 1.
 */
export function writeChildLog(spec: ChildLogSpec): ForkMeta {
  checkForkTurn(spec.parent, spec.atTurn);
  const now = spec.now ?? (() => new Date());
  const fork = forkMeta(spec);
  let at = now();
  const stamper = new EventStamper(spec.runId, 0, () => at);
  const out: ArenaEvent[] = [];
  out.push(
    stamper.next({
      type: 'run.started',
      scenario: publicScenario(spec.scenario),
      agents: childAgentInfos(spec.scenario, spec.parent.started),
      seed: spec.scenario.seed,
      limits: spec.scenario.limits,
      ...(spec.scenarioFile ? { scenarioFile: spec.scenarioFile } : {}),
      meta: { ...(spec.meta ?? {}), fork },
    }),
  );
  for (const { event, text } of spec.parent.lines) {
    if (!inPrefix(event, spec.atTurn)) continue;
    // The line as written, not as parsed: fields this version does not know are copied too.
    const { v: _v, seq: _seq, ts, runId: _runId, ...body } = JSON.parse(text) as Record<string, unknown>;
    const when = typeof ts === 'string' ? new Date(ts) : undefined;
    at = when && !Number.isNaN(when.getTime()) ? when : now();
    out.push(stamper.next(body as EventBody));
  }
  const inject = spec.perturbation?.inject;
  if (inject) {
    at = now();
    out.push(stamper.next({ type: 'intervention', turn: spec.atTurn, kind: 'inject', by: 'fork', text: inject.text, as: inject.as }));
  }
  writeWhole(eventsFileOf(spec.runDir), out.map((e) => `${JSON.stringify(e)}\n`).join(''));
  return fork;
}

function writeWhole(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  // What a write killed midway left aside is of no use: the log is written again whole.
  for (const name of readdirSync(dirname(file))) if (name.startsWith(`${basename(file)}.`) && name.endsWith('.fork.tmp')) rmSync(join(dirname(file), name), { force: true });
  const tmp = `${file}.${process.pid}.fork.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    throw new RunLogError(file, 0, `cannot write the forked run's log (${code === 'ENOSPC' ? 'ENOSPC: the disk is full' : (code ?? String(err))})`, { cause: err });
  }
}
