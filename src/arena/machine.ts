import { assertEvent, assign, emit, enqueueActions, setup } from 'xstate';
import type { Participant, TranscriptEntry } from '../agents/agent.js';
import type { EventBody, InterventionKind, RunStatus } from '../runlog/events.js';
import type { Usage } from '../usage.js';
import type { AttractorAction, TurnPolicy } from './scenario.js';
import { nextSpeaker } from './turn-policy.js';
import { createRng, hashSeed } from '../seeded-random.js';

/** What the turn runner is asked to do for one turn. */
export interface TurnInput {
  turn: number;
  speaker: Participant;
  transcript: readonly TranscriptEntry[];
}

/** Generates one turn; aborting `signal` must end it promptly. */
export type TurnGenerator = (input: TurnInput, signal: AbortSignal) => Promise<TurnOutput>;

/** A finished turn, as the machine records it. */
export interface TurnOutput {
  text: string;
  finishReason: string;
  usage: Usage;
  costUsd: number;
  latencyMs: number;
  attempts: number;
  thinking?: string;
  /** Answered from the record/replay cache. */
  replay?: true;
  /** The text the turn was started from (its `text` begins with it). */
  prefill?: string;
}

export interface MachineInput {
  participants: Participant[];
  firstIndex: number;
  policy: TurnPolicy;
  seed: number;
  maxTurns: number;
  maxTokens?: number;
  maxCostUsd?: number;
  endTokens: string[];
  emptyTurns?: number;
  onAttractor: AttractorAction[];
  /** When resuming: the conversation so far and the counters that go with it. */
  transcript?: TranscriptEntry[];
  turn?: number;
  lastSpeakerId?: string;
  totals?: { inputTokens: number; outputTokens: number; costUsd: number };
  /**
   * How turns are generated (required to run a turn). Passing it here lets every run share one machine
   * definition; building a machine per run with machine.provide costs more than a whole turn of a scripted agent.
   */
  generate?: TurnGenerator;
}

export interface Ending {
  status: RunStatus;
  stopReason: string;
  error?: { name: string; message: string; status?: number };
}

export interface MachineContext extends Omit<MachineInput, 'transcript' | 'turn' | 'totals' | 'generate'> {
  transcript: TranscriptEntry[];
  /** Last completed turn. */
  turn: number;
  totals: { inputTokens: number; outputTokens: number; costUsd: number };
  emptyStreak: Record<string, number>;
  pauseRequested: boolean;
  /** Set when the run must end at the next boundary (end token, limit, attractor, stop). */
  ending?: Ending;
  /** The run ends once this turn is complete (an attractor's stop action). */
  stopAtTurn?: number;
  /** Who reported the attractor whose stop action set stopAtTurn (its stopReason says so). */
  stopSource?: AttractorSource;
  /** Who speaks in the turn under way (chosen on entering it). */
  speaker?: Participant;
  /** Generates the turns (from input.generate). */
  runner: TurnRunner;
}

export type MachineEvent =
  | { type: 'PAUSE'; by: string }
  | { type: 'RESUME'; by: string }
  | { type: 'STOP'; by: string; reason?: string; status?: RunStatus }
  | { type: 'INJECT'; by: string; text: string; as?: string; kind?: 'inject' | 'perturb' }
  | { type: 'ATTRACTOR'; attractor: string; turn: number; source?: AttractorSource }
  /** From the turn runner: a turn finished, or failed (including when it was aborted). */
  | { type: 'TURN_DONE'; turn: number; output: TurnOutput }
  | { type: 'TURN_FAILED'; turn: number; error: unknown };

/**
 * Runs the turns of one conversation: starts a generation when the machine enters a turn, reports it back
 * to the machine as TURN_DONE or TURN_FAILED, and aborts it when the machine leaves the turn first (a
 * stop). A plain object held in the context rather than a child actor: a child actor cost every run
 * another actor to create at start and a relay hop per turn, which adds up over hundreds of runs.
 */
export class TurnRunner {
  private inFlight: { turn: number; controller: AbortController } | undefined;

  constructor(private readonly generate: TurnGenerator | undefined) {}

  start(input: TurnInput, report: (event: MachineEvent) => void): void {
    const turn = input.turn;
    const current = { turn, controller: new AbortController() };
    this.inFlight = current;
    const settle = (e: MachineEvent) => {
      // A turn that was aborted reports nothing: the machine has already moved on.
      if (this.inFlight !== current) return;
      this.inFlight = undefined;
      report(e);
    };
    let generation: Promise<TurnOutput>;
    try {
      if (!this.generate) throw new Error('no turn generator: pass input.generate to the machine');
      generation = this.generate(input, current.controller.signal);
    } catch (error) {
      generation = Promise.reject(error);
    }
    generation.then(
      (output) => settle({ type: 'TURN_DONE', turn, output }),
      (error) => settle({ type: 'TURN_FAILED', turn, error }),
    );
  }

  /** Abort the generation of `turn` if it is under way (any turn when not given). */
  abort(turn?: number): void {
    const current = this.inFlight;
    if (!current || (turn !== undefined && current.turn !== turn)) return;
    this.inFlight = undefined;
    current.controller.abort();
  }
}

/** Who reported an attractor: a live detector (the default) or the scenario's live judge. */
export type AttractorSource = 'detector' | 'judge';

/** The stopReason of a run ended by an attractor's stop action: `attractor` (a detector's) or `judge_attractor`. */
export function attractorStopReason(source: AttractorSource | undefined): string {
  return source === 'judge' ? 'judge_attractor' : 'attractor';
}

export type EmittedEvent = { type: 'log'; body: EventBody };

/** The intervention a command without text records. */
const INTERVENTION_KINDS = { PAUSE: 'pause', RESUME: 'resume', STOP: 'stop' } as const satisfies Record<string, InterventionKind>;

function speakerName(ctx: MachineContext, id: string): string {
  return id === 'narrator' ? 'Narrator' : (ctx.participants.find((p) => p.id === id)?.name ?? id);
}

/**
 * The conversation: running (turn ↔ between) ⇄ paused, ending in completed, stopped, failed or interrupted.
 * It holds whole turns; tokens flow from the turn generator straight to the event sink.
 */
export const conversationMachine = setup({
  types: {
    input: {} as MachineInput,
    context: {} as MachineContext,
    events: {} as MachineEvent,
    emitted: {} as EmittedEvent,
  },
  guards: {
    /** The reply to the turn under way (not a late one from an aborted turn). */
    isCurrentTurn: ({ context, event }) => {
      assertEvent(event, ['TURN_DONE', 'TURN_FAILED']);
      return event.turn === context.turn + 1;
    },
    /** The reply to the turn under way, after which nothing stops the next turn from starting. */
    nextTurnFollows: ({ context, event }) => {
      assertEvent(event, 'TURN_DONE');
      if (event.turn !== context.turn + 1) return false;
      const next = { ...context, ...afterTurn(context, event.output) };
      return !next.ending && !turnsDone(next) && !attractorStop(next) && !overBudget(next) && !next.pauseRequested;
    },
    mustEnd: ({ context }) => context.ending !== undefined,
    turnsDone: ({ context }) => turnsDone(context),
    attractorStop: ({ context }) => attractorStop(context),
    overBudget: ({ context }) => overBudget(context),
    pauseRequested: ({ context }) => context.pauseRequested,
    endsCompleted: ({ context }) => context.ending?.status === 'completed',
    endsStopped: ({ context }) => context.ending?.status === 'stopped',
    endsInterrupted: ({ context }) => context.ending?.status === 'interrupted',
  },
  actions: {
    logCompleted: emit(({ context, event }) => {
      assertEvent(event, 'TURN_DONE');
      const out = event.output;
      const body: EventBody = {
        type: 'turn.completed',
        turn: context.turn + 1,
        agentId: context.speaker!.id,
        text: out.text,
        finishReason: out.finishReason,
        usage: out.usage,
        costUsd: out.costUsd,
        latencyMs: out.latencyMs,
        attempts: out.attempts,
        ...(out.thinking ? { thinking: out.thinking } : {}),
        ...(out.text.trim() === '' ? { empty: true } : {}),
        ...(out.replay ? { replay: true } : {}),
        ...(out.prefill !== undefined ? { prefill: out.prefill } : {}),
      };
      return { type: 'log' as const, body };
    }),
    recordTurn: assign(({ context, event }) => {
      assertEvent(event, 'TURN_DONE');
      return afterTurn(context, event.output);
    }),
    logIntervention: emit(({ context, event }) => {
      assertEvent(event, ['PAUSE', 'RESUME', 'STOP', 'INJECT']);
      const body: EventBody =
        event.type === 'INJECT'
          ? { type: 'intervention', turn: context.turn, kind: event.kind ?? 'inject', by: event.by, text: event.text, as: event.as ?? 'narrator' }
          : { type: 'intervention', turn: context.turn, kind: INTERVENTION_KINDS[event.type], by: event.by };
      return { type: 'log' as const, body };
    }),
    addInjected: assign({
      transcript: ({ context, event }) => {
        assertEvent(event, 'INJECT');
        const as = event.as ?? 'narrator';
        return [...context.transcript, { turn: context.turn, speakerId: as, speaker: speakerName(context, as), text: event.text, kind: event.kind ?? 'inject' }];
      },
    }),
    requestStop: assign({
      ending: ({ context, event }) => {
        assertEvent(event, 'STOP');
        return context.ending ?? { status: event.status ?? 'stopped', stopReason: event.reason ?? 'user' };
      },
    }),
  },
}).createMachine({
  id: 'conversation',
  context: ({ input }) => ({
    ...input,
    runner: new TurnRunner(input.generate),
    transcript: input.transcript ?? [],
    turn: input.turn ?? 0,
    totals: input.totals ?? { inputTokens: 0, outputTokens: 0, costUsd: 0 },
    emptyStreak: {},
    pauseRequested: false,
  }),
  initial: 'running',
  on: {
    INJECT: { actions: ['logIntervention', 'addInjected'] },
    ATTRACTOR: {
      actions: [
        assign(({ context, event }) => {
          const matching = context.onAttractor.filter((a) => a.attractor === '*' || a.attractor === event.attractor);
          let stopAtTurn = context.stopAtTurn;
          let stopSource = context.stopSource;
          for (const a of matching) {
            if (a.action === 'stop') {
              const at = Math.max(context.turn, event.turn + a.afterTurns);
              if (stopAtTurn === undefined || at < stopAtTurn) {
                stopAtTurn = at;
                stopSource = event.source ?? 'detector';
              }
            }
          }
          return { stopAtTurn, ...(stopSource ? { stopSource } : {}) };
        }),
        enqueueActions(({ context, event, enqueue }) => {
          const perturb = context.onAttractor.find((a) => a.action === 'perturb' && (a.attractor === '*' || a.attractor === event.attractor));
          if (!perturb || perturb.action !== 'perturb') return;
          const rng = createRng(hashSeed(context.seed, 'perturb', event.attractor, event.turn));
          const text = perturb.messages[Math.floor(rng() * perturb.messages.length)]!;
          enqueue.raise({ type: 'INJECT', by: `${event.source ?? 'detector'}:${event.attractor}`, text, as: perturb.as, kind: 'perturb' });
        }),
      ],
    },
  },
  states: {
    running: {
      initial: 'between',
      // Leaving `running` (a stop, a pause) ends any generation still under way.
      exit: ({ context }) => context.runner.abort(),
      on: {
        PAUSE: { actions: [assign({ pauseRequested: true }), 'logIntervention'] },
        RESUME: { guard: 'pauseRequested', actions: [assign({ pauseRequested: false }), 'logIntervention'] },
        STOP: { target: '.between', actions: ['logIntervention', 'requestStop'] },
      },
      states: {
        between: {
          always: [
            { guard: 'mustEnd', target: 'ending' },
            { guard: 'turnsDone', target: 'ending', actions: assign({ ending: { status: 'completed', stopReason: 'max_turns' } }) },
            {
              guard: 'attractorStop',
              target: 'ending',
              actions: assign({ ending: ({ context }) => ({ status: 'completed' as const, stopReason: attractorStopReason(context.stopSource) }) }),
            },
            { guard: 'overBudget', target: 'ending', actions: assign({ ending: { status: 'stopped', stopReason: 'budget' } }) },
            { guard: 'pauseRequested', target: '#conversation.paused' },
            { target: 'turn' },
          ],
        },
        turn: {
          entry: [
            assign({
              speaker: ({ context }) => nextSpeaker(context.policy, context.participants, context.firstIndex, context.turn + 1, lastSpeaker(context), context.seed),
            }),
            emit(({ context }) => ({ type: 'log' as const, body: { type: 'turn.started', turn: context.turn + 1, agentId: context.speaker!.id } })),
            ({ context, self }) =>
              context.runner.start({ turn: context.turn + 1, speaker: context.speaker!, transcript: context.transcript }, (e) => self.send(e)),
          ],
          // Leaving a turn before its reply (a stop) aborts it; after the reply this is a no-op.
          exit: ({ context }) => context.runner.abort(context.turn + 1),
          on: {
            // The common case goes straight into the next turn: one transition per turn instead of two
            // (through `between`), which matters when hundreds of runs share a thread.
            TURN_DONE: [
              { guard: 'nextTurnFollows', target: 'turn', reenter: true, actions: ['logCompleted', 'recordTurn'] },
              { guard: 'isCurrentTurn', target: 'between', actions: ['logCompleted', 'recordTurn'] },
            ],
            TURN_FAILED: {
              guard: 'isCurrentTurn',
              target: 'ending',
              actions: assign({
                ending: ({ context, event }) => context.ending ?? { status: 'failed', stopReason: 'error', error: errorInfo(event.error) },
              }),
            },
          },
        },
        ending: {
          always: [
            { guard: 'endsCompleted', target: '#conversation.completed' },
            { guard: 'endsStopped', target: '#conversation.stopped' },
            { guard: 'endsInterrupted', target: '#conversation.interrupted' },
            { target: '#conversation.failed' },
          ],
        },
      },
    },
    paused: {
      on: {
        RESUME: { target: 'running', actions: [assign({ pauseRequested: false }), 'logIntervention'] },
        STOP: { target: 'running', actions: ['logIntervention', 'requestStop'] },
      },
    },
    completed: { type: 'final' },
    stopped: { type: 'final' },
    failed: { type: 'final' },
    interrupted: { type: 'final' },
  },
});

/** The context after a finished turn: the counters, the transcript, and an ending if the turn calls for one. */
function afterTurn(context: MachineContext, out: TurnOutput): Partial<MachineContext> {
  const known = afterTurnCache.get(out);
  if (known && known.context === context) return known.update;
  const speaker = context.speaker!;
  const turn = context.turn + 1;
  const empty = out.text.trim() === '';
  const streak = empty ? (context.emptyStreak[speaker.id] ?? 0) + 1 : 0;
  let ending = context.ending;
  if (!ending && context.endTokens.some((t) => out.text.includes(t))) ending = { status: 'completed', stopReason: 'end_token' };
  if (!ending && context.emptyTurns !== undefined && streak >= context.emptyTurns) ending = { status: 'completed', stopReason: 'empty_turns' };
  const update: Partial<MachineContext> = {
    turn,
    transcript: [...context.transcript, { turn, speakerId: speaker.id, speaker: speaker.name, text: out.text, kind: 'turn' as const }],
    totals: {
      inputTokens: context.totals.inputTokens + out.usage.inputTokens,
      outputTokens: context.totals.outputTokens + out.usage.outputTokens,
      costUsd: context.totals.costUsd + out.costUsd,
    },
    emptyStreak: context.emptyStreak[speaker.id] === streak ? context.emptyStreak : { ...context.emptyStreak, [speaker.id]: streak },
    ending,
  };
  afterTurnCache.set(out, { context, update });
  return update;
}
/** The guard and the action of one transition both need afterTurn: compute it once per turn. */
const afterTurnCache = new WeakMap<TurnOutput, { context: MachineContext; update: Partial<MachineContext> }>();

function turnsDone(context: MachineContext): boolean {
  return context.turn >= context.maxTurns;
}

function attractorStop(context: MachineContext): boolean {
  return context.stopAtTurn !== undefined && context.turn >= context.stopAtTurn;
}

function overBudget(context: MachineContext): boolean {
  return (
    (context.maxTokens !== undefined && context.totals.inputTokens + context.totals.outputTokens >= context.maxTokens) ||
    (context.maxCostUsd !== undefined && context.totals.costUsd >= context.maxCostUsd)
  );
}

function lastSpeaker(ctx: MachineContext): string | undefined {
  for (let i = ctx.transcript.length - 1; i >= 0; i--) if (ctx.transcript[i]!.kind === 'turn') return ctx.transcript[i]!.speakerId;
  return undefined;
}

function errorInfo(err: unknown): { name: string; message: string; status?: number } {
  if (err instanceof Error) {
    const status = (err as { status?: unknown }).status;
    return { name: err.name, message: err.message, ...(typeof status === 'number' ? { status } : {}) };
  }
  return { name: 'Error', message: String(err) };
}
