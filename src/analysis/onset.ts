import type { Thresholds } from './attractor.js';

/** A change of state found by the hysteresis: entering at an onset turn or leaving at an exit turn. */
export interface Transition {
  kind: 'entered' | 'exited';
  /** Onset turn (entered) or first turn below the exit threshold (exited). */
  turn: number;
  /** The turn whose score completed the run of k turns: when it could first be known. */
  detectedAt: number;
  /** Mean score over the run of turns that caused the transition. */
  score: number;
  /** The turns of that run, in order. */
  turns: number[];
  /** With three or more speakers: who is in the state once this transition has happened. */
  speakers?: string[];
}

/**
 * Hysteresis over per-turn scores: enter after `enterTurns` consecutive scores ≥ `enter`, leave after
 * `exitTurns` consecutive scores < `exit`. Scores between the two thresholds keep the current state and
 * break a run, so a conversation hovering near one threshold does not flap.
 */
export class Hysteresis {
  private inside = false;
  private run: { turn: number; score: number }[] = [];

  constructor(private readonly t: Thresholds) {}

  get isInside(): boolean {
    return this.inside;
  }

  push(turn: number, score: number): Transition | undefined {
    const counts = this.inside ? score < this.t.exit : score >= this.t.enter;
    if (!counts) {
      // Most turns break no run: allocate a fresh one only when there was something to drop.
      if (this.run.length > 0) this.run = [];
      return undefined;
    }
    this.run.push({ turn, score });
    const needed = this.inside ? this.t.exitTurns : this.t.enterTurns;
    if (this.run.length < needed) return undefined;
    const run = this.run;
    this.run = [];
    this.inside = !this.inside;
    return {
      kind: this.inside ? 'entered' : 'exited',
      turn: run[0]!.turn,
      detectedAt: turn,
      score: run.reduce((a, r) => a + r.score, 0) / run.length,
      turns: run.map((r) => r.turn),
    };
  }
}

/**
 * Whether a conversation is in an attractor. With one or two speakers this is the hysteresis over all
 * turns in order. With three or more, each speaker also has a hysteresis over their own turns (the others'
 * turns in between do not break it), and the conversation is in the attractor while its turns are, or
 * while at least one speaker is: bliss said by one agent of three enters, and its transition names the
 * speakers in the state.
 */
export class ConversationState {
  private readonly all: Hysteresis;
  private readonly bySpeaker = new Map<string, Hysteresis>();
  /** Each speaker's entry while they are in the state: the cause to report if it only counts later (a third speaker joins). */
  private readonly entries = new Map<string, Transition>();
  private inside = false;

  constructor(private readonly t: Thresholds) {
    this.all = new Hysteresis(t);
  }

  get isInside(): boolean {
    return this.inside;
  }

  push(speaker: string, turn: number, score: number): Transition | undefined {
    const overall = this.all.push(turn, score);
    let own = this.bySpeaker.get(speaker);
    if (!own) this.bySpeaker.set(speaker, (own = new Hysteresis(this.t)));
    const mine = own.push(turn, score);
    if (mine?.kind === 'entered') this.entries.set(speaker, mine);
    else if (mine?.kind === 'exited') this.entries.delete(speaker);
    const many = this.bySpeaker.size >= 3;
    const inside = this.all.isInside || (many && this.entries.size > 0);
    if (inside === this.inside) return undefined;
    return this.transition(inside, many, overall, mine, turn, score);
  }

  /** The state changed: say how (kept out of `push`, which runs for every attractor on every turn). */
  private transition(inside: boolean, many: boolean, overall: Transition | undefined, mine: Transition | undefined, turn: number, score: number): Transition {
    this.inside = inside;
    const kind: Transition['kind'] = inside ? 'entered' : 'exited';
    // What changed the state: the whole conversation's run, this speaker's, or (when a third speaker has just
    // made speakers count) the earliest entry of a speaker already in the state, known from now on.
    const earliest = [...this.entries.values()].sort((a, b) => a.turn - b.turn)[0];
    const cause =
      overall?.kind === kind ? overall
      : mine?.kind === kind ? mine
      : inside && earliest ? { ...earliest, detectedAt: turn }
      : { kind, turn, detectedAt: turn, score, turns: [turn] };
    if (!many) return cause;
    const speakers = [...this.entries.keys()].filter((id) => this.bySpeaker.get(id)!.isInside);
    return { ...cause, speakers };
  }
}

/**
 * A loop's onset is where the repeated material was first said, which is known only once it comes back. For
 * an entry into a repetition attractor by the calibrated route, the onset moves back from the first turn of
 * the run by that turn's `repeatLag` (how many turns back most of its repeated lines came from).
 */
export function backdatedOnset(turn: number, lag: number): number {
  return Math.max(1, turn - lag);
}

/** Which of an attractor's two detectors caused a transition. */
export type Route = 'signal' | 'calibrated';

/**
 * An attractor with a hand-set signal and, when calibrated, a fitted turn model: each has its own
 * thresholds and its own ConversationState, and the conversation is in the attractor while either route has
 * entered it. The transition reported is the one that changed that (the earlier onset when both did at once).
 */
export class AttractorState {
  private readonly signal: ConversationState;
  private readonly calibrated: ConversationState | undefined;
  private inside = false;

  constructor(signal: Thresholds, calibrated?: Thresholds) {
    this.signal = new ConversationState(signal);
    this.calibrated = calibrated ? new ConversationState(calibrated) : undefined;
  }

  get isInside(): boolean {
    return this.inside;
  }

  push(speaker: string, turn: number, signalScore: number, calibratedScore?: number): (Transition & { route: Route }) | undefined {
    const a = this.signal.push(speaker, turn, signalScore);
    const b = this.calibrated && calibratedScore !== undefined ? this.calibrated.push(speaker, turn, calibratedScore) : undefined;
    const inside = this.signal.isInside || (this.calibrated?.isInside ?? false);
    if (inside === this.inside) return undefined;
    this.inside = inside;
    const kind: Transition['kind'] = inside ? 'entered' : 'exited';
    const causes = [a && a.kind === kind ? { ...a, route: 'signal' as const } : undefined, b && b.kind === kind ? { ...b, route: 'calibrated' as const } : undefined].filter((t) => t !== undefined);
    causes.sort((x, y) => x.turn - y.turn);
    return causes[0];
  }
}
