import { CompressionStream } from './compression.js';
import { IntSet } from './int-set.js';
import { structureFeatures, type StructureFeatures, type TurnStructure } from './structure-features.js';
import { emojis, stripCode, stripStageDirections, words } from './tokenize.js';

/** One turn as the analysis sees it, wherever it came from (a live run, a log, an import). */
export interface TurnInput {
  turn: number;
  agentId: string;
  text: string;
}

/** Features computed from text alone, cheaply and synchronously. */
export interface TextFeatures extends StructureFeatures {
  words: number;
  /** Characters (code points). */
  chars: number;
  emoji: number;
  /** emoji / (words + emoji); 0 for an empty turn. */
  emojiShare: number;
  /** Words said outside stage directions (*smiles*, [pause]). */
  spokenWords: number;
  /** Words relative to the mean of the first two turns. */
  lengthRatio: number;
  /** Least-squares slope of word counts over the last six turns, per turn, relative to their mean. */
  lengthTrend: number;
  /** Distinct words / words, distinct bigrams / bigrams (1 when there are none). */
  distinct1: number;
  distinct2: number;
  /**
   * Estimated deflate size / raw size of the last four turns, coded as a stream with the bytes before them as
   * dictionary (see compression.ts): low means repetitive.
   */
  compression: number;
  /** Largest share of this turn's trigrams found in one of the four previous turns (code excluded). */
  overlap: number;
  /** How many turns back that turn was (0 when there is no overlap). */
  overlapLag: number;
  /** Share of this turn's trigrams that repeat earlier ones in the same turn (code excluded). */
  selfRepeat: number;
  /**
   * For a short turn (1 to ECHO_MAX_WORDS words said, outside code and stage directions): its highest
   * word-level similarity to one of the four previous turns, 1 − word edit distance / longer length.
   * Punctuation and case are ignored, so "I love you too." echoes "i love you too!" with 1. 0 for other turns.
   */
  echo: number;
}

/** A turn broken into the units the lexicons count. */
export interface TurnTokens {
  words: string[];
  emoji: string[];
}

const WINDOW = 4;
/** Text below U+0300 (ASCII, Latin-1, Latin Extended) is already in NFC: only other text is normalised. */
const MAY_DENORMAL = /[^\u0000-\u02ff]/;
/** The characters a stage direction starts with (see stripStageDirections). */
const DIRECTION_HINT = /[*_([]/;
const STRUCTURE_WINDOW = 6;
const TREND = 6;
/** Below this many trigrams a turn is too short to say it repeats itself. */
const SELF_REPEAT_MIN = 8;
/**
 * Longest turn (in words said) compared whole with recent turns. Trigram overlap cannot see a repeated
 * phrase of under five words, and is blind to one changed word in five or six: a mutated short line
 * shares few trigrams with the original, though almost every word.
 */
export const ECHO_MAX_WORDS = 6;

/**
 * The text-only state of a conversation: the recent turns needed for overlap, compression and trends.
 * Feed turns in order; each call returns that turn's features.
 */
export class TextWindow {
  /** Word → small integer, so n-grams are numbers: far cheaper to hash than joined strings. */
  private readonly ids = new Map<string, number>();
  private readonly recentTrigrams: IntSet[] = [];
  /** The set that left the window last turn, reused for the next turn's trigrams. */
  private spare: IntSet | undefined;
  /** Word ids said in the recent turns (code and stage directions removed), for `echo`. */
  private readonly recentSaid: number[][] = [];
  private readonly compression = new CompressionStream(WINDOW);
  private readonly recentStructure: TurnStructure[] = [];
  private readonly lengths: number[] = [];
  private readonly opening: number[] = [];

  next(turn: TurnInput): { features: TextFeatures; tokens: TurnTokens } {
    const text = MAY_DENORMAL.test(turn.text) ? turn.text.normalize('NFC') : turn.text;
    const w = words(text);
    const e = emojis(text);
    const noCode = stripCode(text);
    const prose = noCode === text ? w : words(noCode);
    const directed = DIRECTION_HINT.test(text);
    // Words said outside stage directions: tokenised again only when the turn may hold directions.
    const spokenWords = directed ? words(stripStageDirections(text)) : w;
    const spoken = spokenWords.length;

    const wordIds = this.idsOf(w);
    const proseIds = prose === w ? wordIds : this.idsOf(prose);
    const triSet = this.spare ?? new IntSet();
    this.spare = undefined;
    const triCount = trigramsInto(proseIds, triSet);
    let overlap = 0;
    let overlapLag = 0;
    if (triSet.size > 0) {
      for (let lag = 1; lag <= this.recentTrigrams.length; lag++) {
        const prev = this.recentTrigrams[this.recentTrigrams.length - lag]!;
        let shared = 0;
        for (let i = 0; i < triSet.size; i++) if (prev.has(triSet.at(i))) shared++;
        const share = shared / triSet.size;
        if (share > overlap) {
          overlap = share;
          overlapLag = lag;
        }
      }
    }
    const selfRepeat = triCount >= SELF_REPEAT_MIN ? 1 - triSet.size / triCount : 0;

    const saidIds = noCode === text ? (directed ? this.idsOf(spokenWords) : proseIds) : DIRECTION_HINT.test(noCode) ? this.idsOf(words(stripStageDirections(noCode))) : proseIds;
    let echo = 0;
    if (saidIds.length > 0 && saidIds.length <= ECHO_MAX_WORDS) {
      for (let lag = 1; lag <= this.recentSaid.length && echo < 1; lag++) {
        const prev = this.recentSaid[this.recentSaid.length - lag]!;
        const longer = Math.max(prev.length, saidIds.length);
        // The length difference alone bounds the similarity: skip turns that cannot beat the best so far.
        if (prev.length === 0 || Math.min(prev.length, saidIds.length) / longer <= echo) continue;
        echo = Math.max(echo, 1 - editDistance(saidIds, prev) / longer);
      }
    }

    if (this.opening.length < 2) this.opening.push(w.length);
    const openingMean = this.opening.reduce((a, b) => a + b, 0) / this.opening.length;
    this.lengths.push(w.length);
    if (this.lengths.length > TREND) this.lengths.shift();

    const compression = this.compression.push(text);

    this.recentTrigrams.push(triSet);
    if (this.recentTrigrams.length > WINDOW) this.spare = this.recentTrigrams.shift();
    this.recentSaid.push(saidIds);
    if (this.recentSaid.length > WINDOW) this.recentSaid.shift();

    const structure = structureFeatures(text, w, this.recentStructure);
    this.recentStructure.push(structure.structure);
    if (this.recentStructure.length > STRUCTURE_WINDOW) this.recentStructure.shift();

    const st = structure.features;
    const features: TextFeatures = {
      words: w.length,
      chars: countCodePoints(text),
      emoji: e.length,
      emojiShare: w.length + e.length === 0 ? 0 : e.length / (w.length + e.length),
      spokenWords: spoken,
      lengthRatio: w.length / Math.max(openingMean, 1),
      lengthTrend: slope(this.lengths) / Math.max(mean(this.lengths), 1),
      distinct1: w.length === 0 ? 1 : distinctIds(wordIds) / w.length,
      distinct2: w.length < 2 ? 1 : distinctBigrams(wordIds) / (w.length - 1),
      compression,
      overlap,
      overlapLag,
      selfRepeat,
      echo,
      // Listed one by one, not spread: a spread of this many keys leaves a slow dictionary-mode object.
      letters: st.letters,
      symbolShare: st.symbolShare,
      lineRepeat: st.lineRepeat,
      shapeRepeat: st.shapeRepeat,
      novelChars: st.novelChars,
      repeatLag: st.repeatLag,
      openingRepeat: st.openingRepeat,
      closingRepeat: st.closingRepeat,
      interface: st.interface,
      address: st.address,
      narration: st.narration,
      gratitude: st.gratitude,
      sacred: st.sacred,
      unity: st.unity,
    };
    return { features, tokens: { words: w, emoji: e } };
  }

  private idsOf(ws: readonly string[]): number[] {
    const out = new Array<number>(ws.length);
    for (let i = 0; i < ws.length; i++) {
      let id = this.ids.get(ws[i]!);
      if (id === undefined) this.ids.set(ws[i]!, (id = this.ids.size % ID_SPACE));
      out[i] = id;
    }
    return out;
  }
}

/** Ids stay below 2^17 so three of them pack into one safe integer (2^51). */
const ID_SPACE = 1 << 17;

/** Per word id, the call of `distinctIds` that last saw it: shared, as calls are synchronous. */
const SEEN_AT = new Uint32Array(ID_SPACE);
let seenCall = 0;
const BIGRAMS = new IntSet(256);

function distinctIds(ids: readonly number[]): number {
  if (++seenCall === 0xffffffff) {
    SEEN_AT.fill(0);
    seenCall = 1;
  }
  let n = 0;
  for (let i = 0; i < ids.length; i++) {
    if (SEEN_AT[ids[i]!] !== seenCall) {
      SEEN_AT[ids[i]!] = seenCall;
      n++;
    }
  }
  return n;
}

function distinctBigrams(ids: readonly number[]): number {
  BIGRAMS.clear(ids.length);
  for (let i = 0; i + 2 <= ids.length; i++) BIGRAMS.add(ids[i]! * ID_SPACE + ids[i + 1]!);
  return BIGRAMS.size;
}

/** The trigrams of `ids` into `set` (emptied first); returns how many there were, repeats included. */
function trigramsInto(ids: readonly number[], set: IntSet): number {
  const n = Math.max(ids.length - 2, 0);
  set.clear(n);
  for (let i = 0; i + 3 <= ids.length; i++) set.add((ids[i]! * ID_SPACE + ids[i + 1]!) * ID_SPACE + ids[i + 2]!);
  return n;
}

/** The row `editDistance` works in, shared (calls are synchronous). */
let EDIT_ROW = new Int32Array(ECHO_MAX_WORDS + 1);

/** Levenshtein distance over word ids; `a` is the short turn, so one row of length a.length + 1 suffices. */
function editDistance(a: readonly number[], b: readonly number[]): number {
  const row = EDIT_ROW.length > a.length ? EDIT_ROW : (EDIT_ROW = new Int32Array(a.length + 1));
  for (let i = 0; i <= a.length; i++) row[i] = i;
  for (let j = 1; j <= b.length; j++) {
    let diagonal = row[0]!;
    row[0] = j;
    for (let i = 1; i <= a.length; i++) {
      const above = row[i]!;
      row[i] = Math.min(above + 1, row[i - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[a.length]!;
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function slope(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = mean(ys);
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (i - mx) * (ys[i]! - my);
    den += (i - mx) ** 2;
  }
  return num / den;
}

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}
