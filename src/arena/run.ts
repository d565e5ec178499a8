import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createActor } from 'xstate';
import type { Logger } from 'pino';
import type { Agent, AgentDeps, Participant } from '../agents/agent.js';
import { createAgent } from '../agents/create-agent.js';
import { openingLines } from '../agents/openings.js';
import { timerSleep, type Sleep } from '../clock.js';
import type { AgentInfo, ArenaEvent, RunStatus } from '../runlog/events.js';
import { eventsFileOf } from '../runlog/layout.js';
import { RunLogWriter, type WriteBytes } from '../runlog/writer.js';
import type { RunState } from './run-state.js';
import { silentLogger } from '../logger.js';
import { InputError, RunLogError, describeError } from '../errors.js';
import { EventBus } from './event-bus.js';
import { generateTurn, PendingPrefills, type SpeakerSetup } from './generate-turn.js';
import type { ModelCallCache } from '../agents/remote/call-cache.js';
import { conversationMachine, type Ending, type MachineContext, type MachineEvent, type MachineInput, type TurnInput } from './machine.js';
import type { RunCommand, RunControl, RunObserver } from './observer.js';
import type { LiveStatus, RunHandle, RunResult } from './run-handle.js';
import type { Scenario } from './scenario.js';

export interface StartRunOptions {
  scenario: Scenario;
  /** Folder that relative paths in the scenario resolve against. */
  scenarioDir: string;
  /** The scenario file, recorded in run.started so `arena resume` can find relative paths again. */
  scenarioFile?: string;
  runsDir: string;
  /** Defaults to a fresh `<UTC time>-<scenario name>-<random>` id. */
  runId?: string;
  /** Defaults to `<runsDir>/<runId>`; batches nest runs deeper. */
  runDir?: string;
  env?: Readonly<Record<string, string | undefined>>;
  logger?: Logger;
  fetch?: typeof globalThis.fetch;
  /** Rate limiters shared with other runs (a batch passes one registry to all its runs). */
  limiters?: AgentDeps['limiters'];
  sleep?: Sleep;
  /** Wall clock, for timestamps and latencies. */
  now?: () => Date;
  observers?: RunObserver[];
  /** Write turn.delta events to the log too (they are live-only by default). */
  persistDeltas?: boolean;
  /**
   * Keep the run's persisted events in memory (a resumed run's history too) so a viewer attached at any
   * moment replays them from the handle, not from the log (see RunHandle.keepsEvents).
   */
  keepEvents?: boolean;
  /** Agents to use instead of building them from the scenario (tests, embedding the arena). */
  agents?: Agent[];
  /** Continue a run from its log instead of starting one. */
  resume?: {
    state: RunState;
    validBytes: number;
    truncatedTail: boolean;
    history: readonly ArenaEvent[];
    /** File size when the log was read: the resume is refused if another process appended since. */
    totalBytes?: number;
  };
  /**
   * Lock the run folder against other writers (default). A batch passes false: the batch lock its driving
   * process holds covers every run folder in it, and a lock file per run was a third of a run's start-up.
   */
  lockRunDir?: boolean;
  /** Extra fields for run.started (e.g. a batch's matrix cell). */
  meta?: Record<string, unknown>;
  /** Writes the run log's bytes instead of `fs.writeSync` (tests: a disk that fills up). */
  logWrite?: WriteBytes;
  /** Record/replay cache of the agents' model calls (`--cache`). */
  cache?: ModelCallCache;
  /**
   * The next turn this invocation generates for `agentId` (for whoever speaks first when absent) starts from
   * this text (an assistant prefill). `arena fork --prefill` sets it for a child's first generated turn.
   */
  firstTurnPrefill?: { agentId?: string; text: string };
}

/** `20261122T101728Z-demo-3fa1`: sorts by time, readable, unique without coordination. */
export function newRunId(name: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'run';
  return `${stamp}-${slug}-${randomBytes(3).toString('hex')}`;
}

/** A URL without the credentials or query values it may carry, for the run log. */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '[redacted]';
      u.password = '';
    }
    for (const key of [...u.searchParams.keys()]) u.searchParams.set(key, '[redacted]');
    return u.toString();
  } catch {
    return '[redacted]';
  }
}

/** The scenario as recorded in run.started: keys never appear in it, and endpoint URLs lose their secrets. */
export function publicScenario(scenario: Scenario): Record<string, unknown> {
  return {
    ...scenario,
    agents: scenario.agents.map((a) => ('baseURL' in a && a.baseURL ? { ...a, baseURL: publicUrl(a.baseURL) } : a)),
    ...(scenario.judge?.baseURL ? { judge: { ...scenario.judge, baseURL: publicUrl(scenario.judge.baseURL) } } : {}),
  };
}

/** Start a conversation in this process. The returned handle streams its events and ends with `done`. */
export async function startRun(options: StartRunOptions): Promise<RunHandle> {
  const { scenario } = options;
  const now = options.now ?? (() => new Date());
  const resume = options.resume;
  const runId = resume?.state.started.runId ?? options.runId ?? newRunId(scenario.name, now());
  const runDir = resolve(options.runDir ?? join(options.runsDir, runId));
  const logger = (options.logger ?? silentLogger()).child({ runId });
  const sleep = options.sleep ?? timerSleep;

  const agents = options.agents ?? (await createAgents(scenario, agentDepsOf(options, logger, sleep)));
  const speakers = speakersOf(scenario, agents);
  const participants: Participant[] = scenario.agents.map((a) => ({ id: a.id, name: a.name ?? a.id }));
  const firstIndex = Math.max(0, scenario.first ? participants.findIndex((p) => p.id === scenario.first) : 0);
  const prefills = new PendingPrefills();
  if (options.firstTurnPrefill) {
    const { agentId, text } = options.firstTurnPrefill;
    if (agentId !== undefined && !participants.some((p) => p.id === agentId)) {
      throw new InputError(`cannot prefill a turn of '${agentId}': no such agent (agents: ${participants.map((p) => p.id).join(', ')})`);
    }
    prefills.add(text, agentId);
  }

  // A resumed run's log is checked, cut and locked before anything happens. A new run's log is opened in the
  // background while its first turn starts (its events wait in memory until then, a few milliseconds): with
  // hundreds of runs starting at once, waiting for the disk was most of their start-up.
  const writer = resume ? await reopenRunLog(runDir, resume, options) : RunLogWriter.openInBackground(runDir, writerOptions(options));
  const bus = new EventBus(runId, writer, { now, persistDeltas: options.persistDeltas ?? false,
    lastSeq: resume?.state.lastSeq ?? 0,
    keepEvents: options.keepEvents ?? false,
    ...(resume ? { history: resume.history } : {}),
    onListenerError: (err, event) => logger.error({ err, eventType: event.type, seq: event.seq }, 'an event listener failed'),
  });
  const startedAt = Date.now();
  let failedAttempts = resume?.state.totals.failedAttempts ?? 0;
  bus.subscribe(
    (e) => {
      if (e.type === 'turn.failed' && !e.aborted) failedAttempts++;
    },
    { deltas: false },
  );

  // Generations still settling after the machine moved on (an aborted turn records itself as failed).
  const inflight = new Set<Promise<unknown>>();
  const generate = (input: TurnInput, signal: AbortSignal) => {
    const p = generateTurn(input, signal, { speakers, participants, bus, seed: scenario.seed, now: () => now().getTime(), sleep, logger, prefills });
    inflight.add(p);
    const forget = () => void inflight.delete(p);
    p.then(forget, forget);
    return p;
  };
  const actor = createActor(conversationMachine, { input: machineInput(scenario, { generate, participants, firstIndex }, resume?.state) });

  let finished = false;
  const send = (cmd: RunCommand): void => {
    if (finished || actor.getSnapshot().status !== 'active') return;
    if (cmd.type === 'inject' || cmd.type === 'perturb') {
      if (cmd.as !== undefined && cmd.as !== 'narrator' && !participants.some((p) => p.id === cmd.as)) {
        throw new Error(`cannot inject as '${cmd.as}': no such agent (agents: ${participants.map((p) => p.id).join(', ')}, or narrator)`);
      }
    }
    logger.info({ command: cmd.type, by: 'by' in cmd ? cmd.by : undefined }, 'command');
    if (cmd.type === 'prefill') {
      if (cmd.agentId !== undefined && !participants.some((p) => p.id === cmd.agentId)) {
        throw new Error(`cannot prefill a turn of '${cmd.agentId}': no such agent (agents: ${participants.map((p) => p.id).join(', ')})`);
      }
      // Taken when the agent's next turn starts, so it never changes a turn already under way.
      return prefills.add(cmd.text, cmd.agentId);
    }
    actor.send(toMachine(cmd));
  };
  const control: RunControl = { runId, publish: (body) => bus.publish(body), send };

  // A new run whose log cannot be opened stops at once (aborting its first turn); `done` rejects with why.
  let started = false;
  let logFailed = false;
  const stopUnwritable = () => send({ type: 'stop', by: 'arena', reason: 'log_unwritable' });
  writer.ready().catch((err: unknown) => {
    logger.error({ err: describeError(err) }, 'cannot write the run log; stopping the run');
    logFailed = true;
    if (started) stopUnwritable();
  });
  // A write that fails mid-run (a full disk) ends the run as failed: a run nobody can read back did not complete.
  writer.onFailure((failure) => {
    logger.error({ err: describeError(failure.error), lastSeq: failure.lastSeq, turns: failure.turns }, 'cannot write the run log; stopping the run');
    if (!finished && actor.getSnapshot().status === 'active') {
      actor.send({ type: 'STOP', by: 'arena', reason: 'log_unwritable', status: 'failed' });
    }
  });

  const observers = options.observers ?? [];
  actor.on('log', (e) => bus.publish(e.body));

  // Observers see the history first (when resuming), then every new event from run.started/run.resumed on.
  for (const o of observers) await o.start?.(resume?.history ?? [], control);
  forwardEvents(bus, observers, control);
  if (resume) {
    bus.publish({ type: 'run.resumed', fromTurn: resume.state.turn, truncatedTail: resume.truncatedTail });
  } else {
    bus.publish({
      type: 'run.started',
      scenario: publicScenario(scenario),
      agents: agentInfos(agents, participants),
      seed: scenario.seed,
      limits: scenario.limits,
      ...(options.scenarioFile ? { scenarioFile: resolve(options.scenarioFile) } : {}),
      ...(options.meta ? { meta: options.meta } : {}),
    });
  }

  let wallTimer: NodeJS.Timeout | undefined;
  if (scenario.limits.wallTimeSec !== undefined) {
    wallTimer = setTimeout(() => send({ type: 'stop', by: 'limits', reason: 'wall_time' }), scenario.limits.wallTimeSec * 1000);
    wallTimer.unref();
  }

  const done = new Promise<RunResult>((resolveDone, rejectDone) => {
    actor.subscribe({
      complete: () => {
        if (wallTimer) clearTimeout(wallTimer);
        finishRun({
          runId,
          runDir,
          logger,
          bus,
          writer,
          agents,
          observers,
          inflight,
          startedAt,
          failedAttempts: () => failedAttempts,
          machine: () => actor.getSnapshot().context,
          onFinishing: () => {
            finished = true;
          },
        }).then(resolveDone, rejectDone);
      },
      error: (err) => rejectDone(err),
    });
  });

  const status = (): LiveStatus => {
    const snap = actor.getSnapshot();
    if (snap.status === 'done') return snap.value as RunStatus;
    if (snap.value === 'paused') return 'paused';
    return 'running';
  };

  actor.start();
  started = true;
  if (logFailed) stopUnwritable();
  return {
    runId,
    runDir,
    info: { scenario: scenario.name, agents: agentInfos(agents, participants) },
    subscribe: (listener, subscribeOptions) => bus.subscribe(listener, subscribeOptions),
    lastSeq: () => bus.lastSeq,
    keepsEvents: bus.keepsEvents,
    status,
    send,
    done,
  };
}

/** Pass each event from now on to the observers (tokens and waits only to those that asked for them). */
function forwardEvents(bus: EventBus, observers: readonly RunObserver[], control: RunControl): void {
  bus.subscribe(
    (e) => {
      for (const o of observers) if ((e.type !== 'turn.delta' && e.type !== 'turn.waiting') || o.deltas) o.onEvent(e, control);
    },
    { deltas: observers.some((o) => o.deltas) },
  );
}

/** What agents built from the scenario are given: the run's logger, clock and fetch, and the scenario's prices. */
function agentDepsOf(options: StartRunOptions, logger: Logger, sleep: Sleep): AgentDeps {
  return {
    env: options.env ?? {},
    scenarioDir: options.scenarioDir,
    logger,
    sleep,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.limiters ? { limiters: options.limiters } : {}),
    ...(options.scenario.prices ? { prices: options.scenario.prices } : {}),
    ...(options.cache ? { cache: options.cache } : {}),
  };
}

/** The scenario's agents, built. */
function createAgents(scenario: Scenario, deps: AgentDeps): Promise<Agent[]> {
  // The scenario's wait for a first byte applies to every model agent that does not set its own.
  const withDefaults = (spec: Scenario['agents'][number]): Scenario['agents'][number] =>
    scenario.firstByteTimeoutMs !== undefined && 'timeoutMs' in spec && spec.firstByteTimeoutMs === undefined
      ? { ...spec, firstByteTimeoutMs: scenario.firstByteTimeoutMs }
      : spec;
  return Promise.all(scenario.agents.map((spec) => createAgent(withDefaults(spec), deps)));
}

/** Each scenario agent's Agent (matched by id, else by position) with the settings of its turns. */
function speakersOf(scenario: Scenario, agents: readonly Agent[]): Map<string, SpeakerSetup> {
  const speakers = new Map<string, SpeakerSetup>();
  scenario.agents.forEach((spec, i) => {
    const agent = agents.find((a) => a.id === spec.id) ?? agents[i]!;
    speakers.set(spec.id, {
      agent,
      sampling: { ...(spec.sampling ?? {}) },
      stop: [...(spec.stop ?? [])],
      openings: openingLines(spec.opening),
      chunkDelayMs: spec.backend === 'scripted' ? (spec.generator.chunkDelayMs ?? 0) : 0,
      ...(spec.prefill ? { prefill: spec.prefill } : {}),
    });
  });
  return speakers;
}

/** The agents as run.started and the handle describe them: the scenario's ids and names, the agents' backends. */
function agentInfos(agents: readonly Agent[], participants: readonly Participant[]): AgentInfo[] {
  return agents.map((a, i) => ({ id: participants[i]?.id ?? a.id, name: participants[i]?.name ?? a.name, backend: a.backend, model: a.model }));
}

/** How the run's log is written: locked unless the caller holds a lock over it, through `logWrite` if given. */
function writerOptions(options: StartRunOptions): { lock: boolean; writeBytes?: WriteBytes } {
  return { lock: options.lockRunDir !== false, ...(options.logWrite ? { writeBytes: options.logWrite } : {}) };
}

/** A resumed run's log, reopened where its last whole line ends, or the error that says why it cannot be. */
async function reopenRunLog(runDir: string, resume: NonNullable<StartRunOptions['resume']>, options: StartRunOptions): Promise<RunLogWriter> {
  const { lock, ...writeBytes } = writerOptions(options);
  try {
    return await RunLogWriter.openAsync(runDir, {
      validBytes: resume.validBytes,
      ...(resume.totalBytes !== undefined ? { expectedBytes: resume.totalBytes } : {}),
      lock,
      lastSeq: resume.state.lastSeq,
      turns: resume.state.turn,
      ...writeBytes,
    });
  } catch (err) {
    throw logWriteError(err, runDir);
  }
}

/** The conversation machine's input: the scenario's policy and limits, and where a resumed run left off. */
function machineInput(
  scenario: Scenario,
  parts: Pick<MachineInput, 'generate' | 'participants' | 'firstIndex'>,
  state: RunState | undefined,
): MachineInput {
  return {
    ...parts,
    policy: scenario.turnPolicy,
    seed: scenario.seed,
    maxTurns: scenario.limits.maxTurns,
    ...(scenario.limits.maxTokens !== undefined ? { maxTokens: scenario.limits.maxTokens } : {}),
    ...(scenario.limits.maxCostUsd !== undefined ? { maxCostUsd: scenario.limits.maxCostUsd } : {}),
    endTokens: scenario.stop.endTokens,
    ...(scenario.stop.emptyTurns !== undefined ? { emptyTurns: scenario.stop.emptyTurns } : {}),
    onAttractor: scenario.stop.onAttractor,
    ...(state
      ? {
          transcript: state.transcript,
          turn: state.turn,
          ...(state.lastSpeakerId ? { lastSpeakerId: state.lastSpeakerId } : {}),
          totals: { inputTokens: state.totals.inputTokens, outputTokens: state.totals.outputTokens, costUsd: state.totals.costUsd },
        }
      : {}),
  };
}

/** A command from outside (viewer, CLI, observer) as the machine's event. */
function toMachine(cmd: RunCommand): MachineEvent {
  switch (cmd.type) {
    case 'pause':
      return { type: 'PAUSE', by: cmd.by };
    case 'resume':
      return { type: 'RESUME', by: cmd.by };
    case 'stop':
      return { type: 'STOP', by: cmd.by, reason: cmd.reason ?? 'user', status: cmd.reason === 'interrupted' ? 'interrupted' : 'stopped' };
    case 'inject':
    case 'perturb':
      return { type: 'INJECT', by: cmd.by, text: cmd.text, ...(cmd.as ? { as: cmd.as } : {}), kind: cmd.type };
    case 'attractor':
      return { type: 'ATTRACTOR', attractor: cmd.attractor, turn: cmd.turn, ...(cmd.source ? { source: cmd.source } : {}) };
    case 'prefill':
      throw new Error('a prefill is not a machine event');
    default: {
      const never: never = cmd;
      throw new Error(`unknown command ${JSON.stringify(never)}`);
    }
  }
}

/** What a run that the machine has ended still has to do, and what it needs for it. */
interface Finishing {
  runId: string;
  runDir: string;
  logger: Logger;
  bus: EventBus;
  writer: RunLogWriter;
  agents: readonly Agent[];
  observers: readonly RunObserver[];
  inflight: ReadonlySet<Promise<unknown>>;
  startedAt: number;
  failedAttempts: () => number;
  /** The machine's final context. */
  machine: () => MachineContext;
  /** Called once nothing can be sent to the run any more (observers flushed). */
  onFinishing: () => void;
}

/**
 * Once the machine has ended: let aborted generations record themselves and observers flush, write
 * run.finished, close the agents and the log, and say how the run ended (failed if its log could not be written).
 */
async function finishRun(f: Finishing): Promise<RunResult> {
  await Promise.allSettled([...f.inflight]);
  for (const o of f.observers) await o.flush?.();
  f.onFinishing();
  const ctx = f.machine();
  const { writer } = f;
  let ending = endingOf(ctx.ending, writer);
  f.bus.publish({
    type: 'run.finished',
    status: ending.status,
    stopReason: ending.stopReason,
    turns: writer.failure?.turns ?? ctx.turn,
    totals: { ...ctx.totals, failedAttempts: f.failedAttempts(), wallTimeMs: Date.now() - f.startedAt },
    ...(ending.error ? { error: ending.error } : {}),
  });
  f.bus.close();
  await Promise.allSettled(f.agents.map((a) => a.close?.()));
  await writer.closed().catch((err: unknown) => {
    throw logWriteError(err, f.runDir);
  });
  // The last writes (run.finished among them) may be the ones that failed.
  ending = endingOf(ending, writer);
  const turns = writer.failure?.turns ?? ctx.turn;
  f.logger.info({ status: ending.status, stopReason: ending.stopReason, turns }, 'run finished');
  return { runId: f.runId, runDir: f.runDir, status: ending.status, stopReason: ending.stopReason, turns, ...(ending.error ? { error: ending.error.message } : {}) };
}

/** How the run ended; a run whose log could not be written failed, whatever else it was about to do. */
function endingOf(ending: Ending | undefined, writer: RunLogWriter): Ending {
  const failure = writer.failure;
  if (failure) return { status: 'failed', stopReason: 'log_unwritable', error: { name: 'RunLogError', message: `${writer.file}: ${failure.message}` } };
  return ending ?? { status: 'completed', stopReason: 'max_turns' };
}

/** Why a run log could not be written, as the error the CLI reports (exit 2 with the file named). */
function logWriteError(err: unknown, runDir: string): RunLogError {
  if (err instanceof RunLogError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new RunLogError(eventsFileOf(runDir), 0, `cannot write the run log (${code === 'ENOSPC' ? 'ENOSPC: the disk is full' : code})`, { cause: err });
}

/** Run a scenario to its end. */
export async function runScenario(options: StartRunOptions): Promise<RunResult> {
  return (await startRun(options)).done;
}
