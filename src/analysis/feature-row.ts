import type { AttractorDefinition } from './attractor.js';
import type { FeatureRow } from './detector-model.js';
import type { TextFeatures } from './text-features.js';

/**
 * The named features a calibrated detector may use, one flat row per turn. Turn features:
 * - logWords, logLetters: log(1 + words), log(1 + letters said outside brackets, directions and prompts);
 * - emojiShare, symbolShare, overlap, selfRepeat, echo, compression, distinct1, distinct2, lineRepeat,
 *   shapeRepeat, interface, address, narration, gratitude, sacred, unity, logLengthRatio: see TextFeatures; logNovel: log(1 + novelChars); openingRepeat, closingRepeat;
 * - per attractor with a lexicon: `lex:<name>` (hits per word, length-aware), `hits:<name>` (log(1 + weighted
 *   hits): a farewell inside a long turn), `tail:<name>` (the same in the turn's last three lines);
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
  defs.forEach((def, a) => {
    const s = lex[a]!;
    if (withLexicon[a]) {
      row[`lex:${def.name}`] = s.density;
      row[`hits:${def.name}`] = Math.log1p(s.weighted);
      row[`tail:${def.name}`] = Math.log1p(s.tail);
    }
    row[`signal:${def.name}`] = s.signal;
  });
  return row;
}

/** This turn's row with the window features of the rows before it (oldest first, current last). */
export function withWindow(rows: readonly Record<string, number>[]): FeatureRow {
  const current = rows[rows.length - 1]!;
  const window = rows.slice(-WINDOW_TURNS);
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
