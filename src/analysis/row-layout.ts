import type { AttractorDefinition } from './attractor.js';
import type { FeatureRow } from './detector-model.js';
import type { LexiconSignals } from './feature-row.js';
import { WINDOW_TURNS } from './feature-row.js';
import type { TextFeatures } from './text-features.js';

/**
 * The turn features of feature-row.ts as numbered slots of a Float64Array, and the window features a set of
 * detectors reads compiled to slot numbers: the analyzer computes every turn's row with no string keys, which
 * keeps keyword analysis fast. `turnRow` and `withWindow` remain the definition; this is their fast form
 * (a test holds the two equal).
 */
const BASE = [
  'logWords', 'logLetters', 'emojiShare', 'symbolShare', 'overlap', 'selfRepeat', 'echo', 'compression', 'distinct1', 'distinct2',
  'lineRepeat', 'shapeRepeat', 'logNovel', 'openingRepeat', 'closingRepeat', 'interface', 'address', 'narration', 'gratitude',
  'sacred', 'unity', 'logLengthRatio',
] as const;

/** Window features compiled to slots: for each output, how it is made (0 turn, 1 mean, 2 min, 3 max) and from which slot (-1: unknown, 0). */
export interface CompiledWindow {
  names: readonly string[];
  kinds: Uint8Array;
  slots: Int32Array;
  /** The distinct row slots that window features read (each aggregated once per turn), and each output's index among them. */
  aggregated: Int32Array;
  aggregateOf: Int32Array;
}

export class RowLayout {
  readonly names: readonly string[];
  private readonly slot = new Map<string, number>();
  private readonly lexSlots: Int32Array;

  constructor(defs: readonly AttractorDefinition[], withLexicon: readonly boolean[]) {
    const names: string[] = [...BASE];
    this.lexSlots = new Int32Array(defs.length * 4).fill(-1);
    defs.forEach((d, a) => {
      if (withLexicon[a]) {
        this.lexSlots[a * 4] = names.push(`lex:${d.name}`) - 1;
        this.lexSlots[a * 4 + 1] = names.push(`hits:${d.name}`) - 1;
        this.lexSlots[a * 4 + 2] = names.push(`tail:${d.name}`) - 1;
      }
      this.lexSlots[a * 4 + 3] = names.push(`signal:${d.name}`) - 1;
    });
    this.names = names;
    names.forEach((n, i) => this.slot.set(n, i));
  }

  /** Every turn and window feature name, in the order `withWindow` gives them for a full row. */
  allFeatures(): string[] {
    return [...this.names, ...this.names.flatMap((n) => [`w4:${n}`, `min4:${n}`, `max4:${n}`])];
  }

  compile(names: readonly string[]): CompiledWindow {
    const kinds = new Uint8Array(names.length);
    const slots = new Int32Array(names.length);
    const aggregateOf = new Int32Array(names.length).fill(-1);
    const distinct: number[] = [];
    names.forEach((name, i) => {
      const colon = name.indexOf(':');
      const prefix = colon < 0 ? '' : name.slice(0, colon);
      const kind = prefix === 'w4' ? 1 : prefix === 'min4' ? 2 : prefix === 'max4' ? 3 : 0;
      kinds[i] = kind;
      slots[i] = this.slot.get(kind === 0 ? name : name.slice(colon + 1)) ?? -1;
      if (kind !== 0 && slots[i]! >= 0) {
        let at = distinct.indexOf(slots[i]!);
        if (at < 0) at = distinct.push(slots[i]!) - 1;
        aggregateOf[i] = at;
      }
    });
    return { names, kinds, slots, aggregated: Int32Array.from(distinct), aggregateOf };
  }

  /** A turn's row, written into `into` when given (a row that has left the window). */
  fill(f: TextFeatures, lex: readonly LexiconSignals[], into?: Float64Array): Float64Array {
    const v = into ?? new Float64Array(this.names.length);
    v[0] = Math.log1p(f.words);
    v[1] = Math.log1p(f.letters);
    v[2] = f.emojiShare;
    v[3] = f.symbolShare;
    v[4] = f.overlap;
    v[5] = f.selfRepeat;
    v[6] = f.echo;
    v[7] = f.compression;
    v[8] = f.distinct1;
    v[9] = f.distinct2;
    v[10] = f.lineRepeat;
    v[11] = f.shapeRepeat;
    v[12] = Math.log1p(f.novelChars);
    v[13] = f.openingRepeat;
    v[14] = f.closingRepeat;
    v[15] = f.interface;
    v[16] = f.address;
    v[17] = f.narration;
    v[18] = f.gratitude;
    v[19] = f.sacred;
    v[20] = f.unity;
    v[21] = Math.log1p(f.lengthRatio);
    for (let a = 0; a < lex.length; a++) {
      const s = lex[a]!;
      const base = a * 4;
      if (this.lexSlots[base]! >= 0) {
        v[this.lexSlots[base]!] = s.density;
        v[this.lexSlots[base + 1]!] = Math.log1p(s.weighted);
        v[this.lexSlots[base + 2]!] = Math.log1p(s.tail);
      }
      v[this.lexSlots[base + 3]!] = s.signal;
    }
    return v;
  }
}

/** The compiled window features over the recent rows (oldest first, current last; at most WINDOW_TURNS used). */
export function windowVector(rows: readonly Float64Array[], w: CompiledWindow): Float64Array {
  const out = new Float64Array(w.names.length);
  const last = rows.length - 1;
  const first = Math.max(0, rows.length - WINDOW_TURNS);
  const n = last - first + 1;
  // Mean, min and max of each slot the window features read, once.
  const k = w.aggregated.length;
  const agg = AGG.length >= k * 3 ? AGG : (AGG = new Float64Array(k * 3));
  for (let j = 0; j < k; j++) {
    const s = w.aggregated[j]!;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let r = first; r <= last; r++) {
      const v = rows[r]![s]!;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    agg[j * 3] = sum / n;
    agg[j * 3 + 1] = min;
    agg[j * 3 + 2] = max;
  }
  for (let i = 0; i < out.length; i++) {
    const s = w.slots[i]!;
    if (s < 0) continue;
    const kind = w.kinds[i]!;
    out[i] = kind === 0 ? rows[last]![s]! : agg[w.aggregateOf[i]! * 3 + kind - 1]!;
  }
  return out;
}
/** Scratch space for windowVector (calls are synchronous). */
let AGG = new Float64Array(96);

/** A compiled vector as a named row. */
export function rowOf(names: readonly string[], v: Float64Array): FeatureRow {
  const out: Record<string, number> = {};
  for (let i = 0; i < names.length; i++) out[names[i]!] = v[i]!;
  return out;
}

/** Positions of `features` among the compiled names (every feature must be there). */
export function positions(names: readonly string[], features: readonly string[]): Int32Array {
  const at = new Map(names.map((n, i) => [n, i]));
  return Int32Array.from(features, (f) => at.get(f)!);
}
