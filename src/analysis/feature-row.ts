import type { AttractorDefinition } from './attractor.js';
import type { FeatureRow } from './detector-model.js';
import type { TextFeatures } from './text-features.js';

/**
 * The named features a calibrated detector may use, one flat row per turn. Turn features:
 * - logWords, logLetters: log(1 + words), log(1 + letters said outside brackets, directions and prompts);
 * - emojiShare, symbolShare, overlap, selfRepeat, echo, compression, distinct1, distinct2, lineRepeat,
 *   shapeRepeat, interface, address, narration, gratitude, sacred, unity, logLengthRatio: see TextFeatures; logNovel: log(1 + novelChars); openingRepeat, closingRepeat;
 * - per attractor with a lexicon: `lex:<name>` (hits per word, length-aware), `hits:<name>` (log(1 + weighted
 *   hits): a farewell inside a long turn), `tail:<name>` (the same in the turn's last 30 words, words and phrases only);
 * - per attractor: `signal:<name>`, its hand-set signal (see SignalSchema) as a feature.
 * Window features: `w4:<feature>`, the mean of a turn feature over this turn and the three before it
 * (so both sides of a two-way conversation), `min4:<feature>` and `max4:<feature>`, its minimum and maximum there.
 */
export const WINDOW_TURNS = 4;

export interface LexiconSignals {
  density: number;
  weighted: number;
  tail: number;
  signal: number;
}

/** The row keys of each attractor's lexicon and signal features, made once per attractor list. */
const keysOf = new WeakMap<readonly AttractorDefinition[], { lex: string; hits: string; tail: string; signal: string }[]>();

export function turnRow(f: TextFeatures, defs: readonly AttractorDefinition[], lex: readonly LexiconSignals[], withLexicon: readonly boolean[]): Record<string, number> {
  const row: Record<string, number> = {
    logWords: Math.log1p(f.words),
    logLetters: Math.log1p(f.letters),
    emojiShare: f.emojiShare,
    symbolShare: f.symbolShare,
    overlap: f.overlap,
    selfRepeat: f.selfRepeat,
    echo: f.echo,
    compression: f.compression,
    distinct1: f.distinct1,
    distinct2: f.distinct2,
    lineRepeat: f.lineRepeat,
    shapeRepeat: f.shapeRepeat,
    logNovel: Math.log1p(f.novelChars),
    openingRepeat: f.openingRepeat,
    closingRepeat: f.closingRepeat,
    interface: f.interface,
    address: f.address,
    narration: f.narration,
    gratitude: f.gratitude,
    sacred: f.sacred,
    unity: f.unity,
    logLengthRatio: Math.log1p(f.lengthRatio),
  };
  let keys = keysOf.get(defs);
  if (!keys) keysOf.set(defs, (keys = defs.map((d) => ({ lex: `lex:${d.name}`, hits: `hits:${d.name}`, tail: `tail:${d.name}`, signal: `signal:${d.name}` }))));
  for (let a = 0; a < defs.length; a++) {
    const s = lex[a]!;
    const k = keys[a]!;
    if (withLexicon[a]) {
      row[k.lex] = s.density;
      row[k.hits] = Math.log1p(s.weighted);
      row[k.tail] = Math.log1p(s.tail);
    }
    row[k.signal] = s.signal;
  }
  return row;
}

/** A window feature to compute: `w4:x` (mean), `min4:x`, `max4:x` over the recent rows, or a turn feature itself. */
export interface WindowFeature {
  name: string;
  kind: 'turn' | 'mean' | 'min' | 'max';
  key: string;
}

/** Parse feature names once, so each turn only loops over them. */
export function windowFeatures(names: Iterable<string>): WindowFeature[] {
  const kinds: Record<string, WindowFeature['kind']> = { w4: 'mean', min4: 'min', max4: 'max' };
  return [...new Set(names)].map((name) => {
    const colon = name.indexOf(':');
    const kind = colon < 0 ? undefined : kinds[name.slice(0, colon)];
    return kind ? { name, kind, key: name.slice(colon + 1) } : { name, kind: 'turn', key: name };
  });
}

/**
 * This turn's row with the window features of the rows before it (oldest first, current last): every
 * feature, or only the `needed` ones (what the detectors read: the row is built for every turn of every run).
 */
export function withWindow(rows: readonly Record<string, number>[], needed?: readonly WindowFeature[]): FeatureRow {
  const current = rows[rows.length - 1]!;
  const window = rows.length > WINDOW_TURNS ? rows.slice(-WINDOW_TURNS) : rows;
  if (needed) {
    const out: Record<string, number> = {};
    for (const f of needed) {
      if (f.kind === 'turn') {
        out[f.name] = current[f.key] ?? 0;
        continue;
      }
      let sum = 0;
      let min = Infinity;
      let max = -Infinity;
      for (const r of window) {
        const v = r[f.key] ?? 0;
        sum += v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      out[f.name] = f.kind === 'mean' ? sum / window.length : f.kind === 'min' ? min : max;
    }
    return out;
  }
  const out: Record<string, number> = { ...current };
  for (const key of Object.keys(current)) {
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const r of window) {
      const v = r[key] ?? 0;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    out[`w4:${key}`] = sum / window.length;
    out[`min4:${key}`] = min;
    out[`max4:${key}`] = max;
  }
  return out;
}
