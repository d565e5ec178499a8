import type { AnalysisFeatures, AttractorEvidence, EventBody } from '../runlog/events.js';
import type { AttractorDefinition, SignalGate } from './attractor.js';
import { drivers, predictAt, type FeatureRow } from './detector-model.js';
import { WINDOW_TURNS, type LexiconSignals } from './feature-row.js';
import { positions, rowOf, RowLayout, windowVector, type CompiledWindow } from './row-layout.js';
import { LexiconIndex, topTerms, type LexiconMatch } from './lexicon.js';
import { AttractorState, backdatedOnset, type Transition } from './onset.js';
import { blendScore, lexiconDensity, lengthFactor, signalScore } from './score.js';
import { TextWindow, type TextFeatures, type TurnInput } from './text-features.js';
import { cosine, meanDirection, round4 } from './vectors.js';

export interface AnalyzerOptions {
  attractors: readonly AttractorDefinition[];
  /** Centroid per attractor name (the mean of its exemplars' embeddings), when embeddings are on. */
  centroids?: ReadonlyMap<string, Float32Array>;
  /** Id of the embedder that made the vectors, recorded in each turn's features. */
  embedder?: string;
  /** Compute every feature of the rows, not only those the calibrated detectors read (for fitting). */
  fullRows?: boolean;
}

/** The synchronous, text-only half of a turn's analysis. */
export interface TextStep {
  input: TurnInput;
  features: TextFeatures;
  match: LexiconMatch;
}

/** What one turn adds to the run log, and which attractors it made the conversation enter. */
export interface TurnAnalysis {
  /** analysis.turn, then attractor.exited / attractor.entered in library order. */
  events: EventBody[];
  entered: { attractor: string; turn: number }[];
  /** The turn's named features, window included: what calibrated detectors read and `arena detect fit` fits on. */
  row: FeatureRow;
}

/** Per-turn record kept for evidence. */
interface Recent {
  turn: number;
  scores: number[];
  signals: number[];
  similarity: (number | undefined)[];
  match: LexiconMatch;
  /** The compiled row (see `this.window`). */
  row: Float64Array;
  repeatLag: number;
}

const EVIDENCE_TERMS = 5;
const FEATURE_TERMS = 3;
const EVIDENCE_DRIVERS = 4;
/** The last words of a turn, where a closing formula or a goodbye sits. */
const TAIL_WORDS = 30;

/**
 * The whole analysis of one conversation, turn by turn, with no clock and no I/O: the same turns (and
 * embeddings) in give the same events out, which is what lets `arena analyze` reproduce a live run.
 * `text()` may run ahead of `complete()`, but each must see turns in order.
 */
export class ConversationAnalyzer {
  private readonly index: LexiconIndex;
  private readonly withLexicon: boolean[];
  private readonly window = new TextWindow();
  private readonly detectors: AttractorState[];
  private readonly needsTail: boolean;
  private readonly layout: RowLayout;
  /** The row features the detectors read (models and signal gates), or all of them (fullRows), compiled. */
  private readonly features: CompiledWindow;
  /** Per attractor: where its model's features and its gate's features sit in a compiled row. */
  private readonly modelAt: (Int32Array | undefined)[];
  private readonly gateAt: Int32Array[];
  private readonly rows: Float64Array[] = [];
  /** Per attractor, this turn's lexicon figures (reused from turn to turn). */
  private readonly lexSignals: LexiconSignals[];
  private readonly densities: Float64Array;
  private readonly recent: Recent[] = [];
  private readonly opening: Float32Array[] = [];
  private openingMean: Float32Array | undefined;
  private previous: Float32Array | undefined;
  private readonly lastByAgent = new Map<string, Float32Array>();

  constructor(private readonly options: AnalyzerOptions) {
    this.index = LexiconIndex.for(options.attractors);
    this.detectors = options.attractors.map((a) => new AttractorState(a.thresholds, a.calibrated?.thresholds));
    this.lexSignals = options.attractors.map(() => ({ density: 0, weighted: 0, tail: 0, signal: 0 }));
    this.densities = new Float64Array(options.attractors.length);
    const plan = planFor(options.attractors, options.fullRows === true);
    this.withLexicon = plan.withLexicon;
    this.layout = plan.layout;
    this.features = plan.features;
    this.modelAt = plan.modelAt;
    this.gateAt = plan.gateAt;
    this.needsTail = plan.needsTail;
  }

  get attractors(): readonly AttractorDefinition[] {
    return this.options.attractors;
  }

  text(input: TurnInput): TextStep {
    const { features, tokens } = this.window.next(input);
    // The tail is the turn's last TAIL_WORDS words, counted in the same pass.
    const match = this.index.match(tokens.words, tokens.emoji, input.text, this.needsTail ? Math.max(0, tokens.words.length - TAIL_WORDS) : undefined);
    return { input, features, match };
  }

  /** Finish a turn; `embedding` is null when the turn was not embedded (empty text, embeddings off or failed). */
  complete(step: TextStep, embedding: Float32Array | null, embeddingError?: string): TurnAnalysis {
    const { input, features: f, match } = step;
    const defs = this.options.attractors;
    const emb = embedding ? this.embeddingFeatures(input.agentId, embedding) : undefined;

    const lexicon: Record<string, number> = {};
    const terms: Record<string, string[]> = {};
    const scores: Record<string, number> = {};
    const turnScores: number[] = [];
    const signals: number[] = [];
    const signalScores: Record<string, number> = {};
    const sims: (number | undefined)[] = [];
    const lexSignals = this.lexSignals;
    const densities = this.densities;
    for (let a = 0; a < defs.length; a++) {
      const def = defs[a]!;
      const density = lexiconDensity(def, match.weighted[a]!, f);
      const s = lexSignals[a]!;
      densities[a] = density;
      s.density = density * lengthFactor(def, f);
      s.weighted = match.weighted[a]!;
      s.tail = match.tailWeighted?.[a] ?? 0;
      s.signal = signalScore(def, f, density);
    }
    // Rows are reused once they leave the window: one allocation per slot for the whole conversation.
    const reuse = this.rows.length >= WINDOW_TURNS ? this.rows.shift() : undefined;
    this.rows.push(this.layout.fill(f, lexSignals, reuse));
    const row = windowVector(this.rows, this.features);
    for (let a = 0; a < defs.length; a++) {
      const def = defs[a]!;
      const density = densities[a]!;
      if (this.withLexicon[a]) lexicon[def.name] = round4(density);
      if (match.terms[a]!.size > 0) terms[def.name] = topTerms(match.terms[a]!, match.weights[a]!, FEATURE_TERMS).map((t) => t.term);
      const sim = emb?.similarity[def.name];
      const signal = round4(passes(def.signalGate, this.gateAt[a]!, row) ? blendScore(def, lexSignals[a]!.signal, sim) : 0);
      // A calibrated attractor's score is its model's probability; its gated signal is kept in the features.
      const score = def.calibrated ? round4(predictAt(def.calibrated.model, this.modelAt[a]!, row)) : signal;
      if (def.calibrated) signalScores[def.name] = signal;
      scores[def.name] = score;
      signals.push(signal);
      turnScores.push(score);
      sims.push(sim);
    }

    const features: AnalysisFeatures = {
      words: f.words,
      chars: f.chars,
      emoji: f.emoji,
      emojiShare: round4(f.emojiShare),
      spokenWords: f.spokenWords,
      lengthRatio: round4(f.lengthRatio),
      lengthTrend: round4(f.lengthTrend),
      distinct1: round4(f.distinct1),
      distinct2: round4(f.distinct2),
      compression: round4(f.compression),
      overlap: round4(f.overlap),
      overlapLag: f.overlapLag,
      selfRepeat: round4(f.selfRepeat),
      echo: round4(f.echo),
      repeatLag: f.repeatLag,
      letters: f.letters,
      symbolShare: round4(f.symbolShare),
      lineRepeat: round4(f.lineRepeat),
      shapeRepeat: round4(f.shapeRepeat),
      interface: round4(f.interface),
      address: round4(f.address),
      narration: round4(f.narration),
      lexicon,
      terms,
      ...(Object.keys(signalScores).length > 0 ? { signals: signalScores } : {}),
      ...(emb ? { embedder: this.options.embedder, drift: emb.drift, step: emb.step, convergence: emb.convergence, similarity: emb.similarity } : {}),
      ...(embeddingError ? { embedder: this.options.embedder, embeddingError } : {}),
    };

    this.recent.push({ turn: input.turn, scores: turnScores, signals, similarity: sims, match, row, repeatLag: f.repeatLag });
    if (this.recent.length > 16) this.recent.shift();

    const events: EventBody[] = [{ type: 'analysis.turn', turn: input.turn, features, scores }];
    const entered: TurnAnalysis['entered'] = [];
    for (let a = 0; a < defs.length; a++) {
      const def = defs[a]!;
      const pushed = this.detectors[a]!.push(input.agentId, input.turn, signals[a]!, def.calibrated ? turnScores[a]! : undefined);
      if (!pushed) continue;
      let t: typeof pushed & { backdatedFrom?: number } = pushed;
      if (t.kind === 'entered' && t.route === 'calibrated' && def.signal === 'repetition') {
        const lag = this.recent.find((r) => r.turn === t.turn)?.repeatLag ?? 0;
        if (lag > 0) t = { ...t, turn: backdatedOnset(t.turn, lag), backdatedFrom: t.turn };
      }
      const run = this.recent.filter((r) => t.turns.includes(r.turn));
      const byRoute = (r: Recent) => (t.route === 'signal' ? r.signals[a]! : r.scores[a]!);
      const evidence: AttractorEvidence = { detectedAt: t.detectedAt, turns: t.turns, scores: run.map(byRoute), ...speakersOf(t), ...(t.backdatedFrom !== undefined ? { backdatedFrom: t.backdatedFrom } : {}) };
      if (def.calibrated) evidence.route = t.route;
      if (def.calibrated && t.route === 'calibrated' && t.kind === 'entered') evidence.drivers = strongest(run.map((r) => drivers(def.calibrated!.model, rowOf(this.features.names, r.row), EVIDENCE_DRIVERS)));
      if (t.kind === 'entered') {
        const merged = new Map<string, number>();
        const weights = new Map<string, number>();
        for (const r of run) {
          for (const [term, n] of r.match.terms[a]!) {
            merged.set(term, (merged.get(term) ?? 0) + n);
            weights.set(term, r.match.weights[a]!.get(term) ?? 0);
          }
        }
        evidence.topTerms = topTerms(merged, weights, EVIDENCE_TERMS);
        const s = run.map((r) => r.similarity[a]).filter((x): x is number => x !== undefined);
        if (s.length > 0) evidence.similarity = round4(s.reduce((x, y) => x + y, 0) / s.length);
        entered.push({ attractor: def.name, turn: t.turn });
      }
      events.push({ type: t.kind === 'entered' ? 'attractor.entered' : 'attractor.exited', attractor: def.name, turn: t.turn, score: round4(t.score), evidence });
    }
    return new Analysis(events, entered, this.features.names, row);
  }

  analyze(input: TurnInput, embedding: Float32Array | null = null): TurnAnalysis {
    return this.complete(this.text(input), embedding);
  }

  private embeddingFeatures(agentId: string, v: Float32Array) {
    if (this.opening.length < 2) {
      this.opening.push(v);
      this.openingMean = meanDirection(this.opening);
    }
    const drift = round4(1 - cosine(v, this.openingMean!));
    const step = this.previous ? round4(1 - cosine(v, this.previous)) : 0;
    let other: Float32Array | undefined;
    for (const [id, last] of this.lastByAgent) if (id !== agentId) other = last;
    const convergence = other ? round4(cosine(v, other)) : null;
    const similarity: Record<string, number> = {};
    for (const def of this.options.attractors) {
      const c = this.options.centroids?.get(def.name);
      if (c) similarity[def.name] = round4(cosine(v, c));
    }
    this.previous = v;
    // Re-insert so the map's order is "least recently spoke" first: the loop above ends on the latest other speaker.
    this.lastByAgent.delete(agentId);
    this.lastByAgent.set(agentId, v);
    return { drift, step, convergence, similarity };
  }
}


/** Whether a turn's window features let the hand-set signal count (see AttractorDefinition.signalGate). */
function passes(gate: readonly SignalGate[], at: Int32Array, row: Float64Array): boolean {
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i]!;
    const v = row[at[i]!]!;
    if (g.below !== undefined && !(v < g.below)) return false;
    if (g.atLeast !== undefined && !(v >= g.atLeast)) return false;
  }
  return true;
}

function speakersOf(t: Transition): { speakers?: string[] } {
  return t.speakers ? { speakers: t.speakers } : {};
}

/** The drivers over a run of turns: each feature's mean contribution, strongest first. */
function strongest(perTurn: ReturnType<typeof drivers>[]): ReturnType<typeof drivers> {
  const sum = new Map<string, { value: number; contribution: number; n: number }>();
  for (const list of perTurn) {
    for (const d of list) {
      const s = sum.get(d.feature) ?? { value: 0, contribution: 0, n: 0 };
      s.value += d.value;
      s.contribution += d.contribution;
      s.n++;
      sum.set(d.feature, s);
    }
  }
  const n = Math.max(perTurn.length, 1);
  return [...sum]
    .map(([feature, s]) => ({ feature, value: round4(s.value / s.n), contribution: round4(s.contribution / n) }))
    .sort((a, b) => b.contribution - a.contribution || (a.feature < b.feature ? -1 : 1))
    .slice(0, EVIDENCE_DRIVERS);
}

/** What an attractor list needs compiled, once per list (a batch analyses every run with the same one). */
interface Plan {
  withLexicon: boolean[];
  layout: RowLayout;
  features: CompiledWindow;
  modelAt: (Int32Array | undefined)[];
  gateAt: Int32Array[];
  needsTail: boolean;
}
const plans = new WeakMap<readonly AttractorDefinition[], { lean?: Plan; full?: Plan }>();

function planFor(defs: readonly AttractorDefinition[], fullRows: boolean): Plan {
  let held = plans.get(defs);
  if (!held) plans.set(defs, (held = {}));
  const known = fullRows ? held.full : held.lean;
  if (known) return known;
  const withLexicon = defs.map(hasLexicon);
  const layout = new RowLayout(defs, withLexicon);
  const read = [...new Set(defs.flatMap((a) => [...(a.calibrated?.model.features ?? []), ...a.signalGate.map((g) => g.feature)]))];
  const features = layout.compile(fullRows ? layout.allFeatures() : read);
  const plan: Plan = {
    withLexicon,
    layout,
    features,
    modelAt: defs.map((a) => (a.calibrated ? positions(features.names, a.calibrated.model.features) : undefined)),
    gateAt: defs.map((a) => positions(features.names, a.signalGate.map((g) => g.feature))),
    needsTail: fullRows || read.some((f) => f.includes('tail:')),
  };
  if (fullRows) held.full = plan;
  else held.lean = plan;
  return plan;
}

/** A TurnAnalysis whose named row is made only when asked for (fitting, tests): the detectors read the compiled one. */
class Analysis implements TurnAnalysis {
  private named: FeatureRow | undefined;

  constructor(
    readonly events: EventBody[],
    readonly entered: { attractor: string; turn: number }[],
    private readonly names: readonly string[],
    private readonly compiled: Float64Array,
  ) {}

  get row(): FeatureRow {
    return (this.named ??= rowOf(this.names, this.compiled));
  }
}

function hasLexicon(def: AttractorDefinition): boolean {
  const l = def.lexicon;
  return Object.keys(l.words).length + Object.keys(l.phrases).length + Object.keys(l.emoji).length + l.patterns.length > 0;
}
