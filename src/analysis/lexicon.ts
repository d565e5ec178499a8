import type { AttractorDefinition } from './attractor.js';
import { normalizeEmoji } from './tokenize.js';

/** One lexicon entry of one attractor: the term shown in evidence and its weight. */
interface Entry {
  attractor: number;
  term: string;
  weight: number;
}

interface Phrase extends Entry {
  words: string[];
}

/** What a single word can start or be, for every attractor at once (memoised per word). */
interface WordEntries {
  entries: Entry[];
  phrases: Phrase[];
}

/** Lexicon hits of one turn for every attractor: weighted sums and the terms behind them. */
export interface LexiconMatch {
  /** Σ over distinct terms of weight × √count: repeating one word gains less than using many. */
  weighted: number[];
  /** term → count, per attractor. */
  terms: ReadonlyMap<string, number>[];
  /** term → weight, per attractor (for ranking evidence). */
  weights: ReadonlyMap<string, number>[];
  /** `weighted` over the words from `tailFrom` on (words and phrases only), when asked for. */
  tailWeighted?: number[];
}

const MEMO_LIMIT = 50_000;
const EMPTY: ReadonlyMap<string, number> = new Map();
const shared = new WeakMap<readonly AttractorDefinition[], LexiconIndex>();

/**
 * All attractors' lexicons merged into one index, so a turn is scanned once whatever the number of
 * attractors. Per attractor, an exact word wins over a `prefix*` entry, and the longest prefix wins.
 */
export class LexiconIndex {
  /** One index per attractor list, shared by every conversation analysed with that list. */
  static for(attractors: readonly AttractorDefinition[]): LexiconIndex {
    let index = shared.get(attractors);
    if (!index) shared.set(attractors, (index = new LexiconIndex(attractors)));
    return index;
  }

  private readonly exact = new Map<string, Entry[]>();
  private readonly prefixes = new Map<string, Entry[]>();
  private readonly prefixLengths: number[];
  private readonly phraseStarts = new Map<string, Phrase[]>();
  private readonly emoji = new Map<string, Entry[]>();
  private readonly patterns: { attractor: number; re: RegExp; weight: number; label?: string }[] = [];
  private readonly memo = new Map<string, WordEntries>();

  constructor(readonly attractors: readonly AttractorDefinition[]) {
    const lengths = new Set<number>();
    attractors.forEach((def, attractor) => {
      for (const [raw, weight] of Object.entries(def.lexicon.words)) {
        const key = raw.toLowerCase();
        if (key.endsWith('*') && key.length > 1) {
          const prefix = key.slice(0, -1);
          push(this.prefixes, prefix, { attractor, term: key, weight });
          lengths.add(prefix.length);
        } else {
          push(this.exact, key, { attractor, term: key, weight });
        }
      }
      for (const [phrase, weight] of Object.entries(def.lexicon.phrases)) {
        const words = tokenizePhrase(phrase);
        if (words.length === 0) continue;
        push(this.phraseStarts, words[0]!, { attractor, term: words.join(' '), weight, words });
      }
      for (const [emoji, weight] of Object.entries(def.lexicon.emoji)) {
        push(this.emoji, normalizeEmoji(emoji), { attractor, term: emoji, weight });
      }
      for (const p of def.lexicon.patterns) {
        const flags = p.flags.includes('g') ? p.flags : `${p.flags}g`;
        this.patterns.push({ attractor, re: new RegExp(p.pattern, flags), weight: p.weight, ...(p.label ? { label: p.label } : {}) });
      }
    });
    this.prefixLengths = [...lengths].sort((a, b) => b - a);
  }

  /**
   * Hits of one turn, given its words and emoji (from tokenize.ts) and its raw text for patterns; with
   * `tailFrom`, also the weighted hits of the words from that index on (a turn's closing words).
   */
  match(words: readonly string[], emoji: readonly string[], text: string, tailFrom?: number): LexiconMatch {
    const n = this.attractors.length;
    const tail = tailFrom === undefined ? undefined : new Array<Map<string, number> | undefined>(n);
    const tailHit = (e: Entry) => {
      let m = tail![e.attractor];
      if (!m) m = tail![e.attractor] = new Map();
      m.set(e.term, (m.get(e.term) ?? 0) + 1);
    };
    // Most turns hit few attractors: maps are made only for those that are hit.
    const terms: (Map<string, number> | undefined)[] = new Array(n);
    const weights: (Map<string, number> | undefined)[] = new Array(n);
    const hit = (e: Entry, count = 1) => {
      let m = terms[e.attractor];
      if (!m) {
        m = terms[e.attractor] = new Map();
        weights[e.attractor] = new Map();
      }
      m.set(e.term, (m.get(e.term) ?? 0) + count);
      weights[e.attractor]!.set(e.term, e.weight);
    };
    for (let i = 0; i < words.length; i++) {
      const info = this.lookup(words[i]!);
      const inTail = tail !== undefined && i >= tailFrom!;
      for (const e of info.entries) {
        hit(e);
        if (inTail) tailHit(e);
      }
      for (const p of info.phrases) {
        if (!phraseAt(words, i, p.words)) continue;
        hit(p);
        if (inTail) tailHit(p);
      }
    }
    for (const e of emoji) {
      const entries = this.emoji.get(normalizeEmoji(e));
      if (entries) for (const entry of entries) hit(entry);
    }
    for (const p of this.patterns) {
      p.re.lastIndex = 0;
      let count = 0;
      let m: RegExpExecArray | null;
      while ((m = p.re.exec(text)) !== null) {
        count++;
        if (m[0].length === 0) p.re.lastIndex++;
        if (p.re.lastIndex > text.length) break;
      }
      if (count > 0) hit({ attractor: p.attractor, term: p.label ?? p.re.source, weight: p.weight }, count);
    }
    const weighted = weightedSums(terms, weights);
    // Holes (attractors not hit) become the shared empty map; a plain loop, as Array.from over holes is slow.
    const termsOut = new Array<ReadonlyMap<string, number>>(n);
    const weightsOut = new Array<ReadonlyMap<string, number>>(n);
    for (let a = 0; a < n; a++) {
      termsOut[a] = terms[a] ?? EMPTY;
      weightsOut[a] = weights[a] ?? EMPTY;
    }
    const out: LexiconMatch = { weighted, terms: termsOut, weights: weightsOut };
    if (tail) out.tailWeighted = weightedSums(tail, weights);
    return out;
  }

  private lookup(word: string): WordEntries {
    const known = this.memo.get(word);
    if (known) return known;
    // A possessive counts as its noun: the bride's veil is about the bride.
    if (word.endsWith("'s") && word.length > 2) {
      const info = this.lookup(word.slice(0, -2));
      this.remember(word, info);
      return info;
    }
    const best = new Map<number, Entry>();
    for (const e of this.exact.get(word) ?? []) best.set(e.attractor, e);
    for (const len of this.prefixLengths) {
      if (len > word.length) continue;
      for (const e of this.prefixes.get(word.slice(0, len)) ?? []) if (!best.has(e.attractor)) best.set(e.attractor, e);
    }
    const info: WordEntries = { entries: [...best.values()], phrases: this.phraseStarts.get(word) ?? [] };
    this.remember(word, info);
    return info;
  }

  private remember(word: string, info: WordEntries): void {
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(word, info);
  }
}

/** Per attractor, Σ over its terms of weight × √count. */
function weightedSums(terms: readonly (Map<string, number> | undefined)[], weights: readonly (Map<string, number> | undefined)[]): number[] {
  const out = new Array<number>(terms.length).fill(0);
  for (let a = 0; a < terms.length; a++) {
    const m = terms[a];
    if (!m) continue;
    let sum = 0;
    for (const [term, count] of m) sum += (weights[a]!.get(term) ?? 0) * Math.sqrt(count);
    out[a] = sum;
  }
  return out;
}

/** The most telling terms first: weight × count, then alphabetically so ties never depend on order seen. */
export function topTerms(terms: ReadonlyMap<string, number>, weights: ReadonlyMap<string, number>, k: number): { term: string; count: number }[] {
  return [...terms]
    .map(([term, count]) => ({ term, count, w: (weights.get(term) ?? 0) * count }))
    .sort((a, b) => b.w - a.w || (a.term < b.term ? -1 : a.term > b.term ? 1 : 0))
    .slice(0, k)
    .map(({ term, count }) => ({ term, count }));
}

function tokenizePhrase(phrase: string): string[] {
  return (phrase.toLowerCase().replaceAll('’', "'").match(/[\p{L}\p{M}\p{N}']+/gu) ?? []).map((w) => w.replace(/^'+|'+$/g, '')).filter(Boolean);
}

function phraseAt(words: readonly string[], i: number, phrase: readonly string[]): boolean {
  if (i + phrase.length > words.length) return false;
  for (let j = 1; j < phrase.length; j++) if (words[i + j] !== phrase[j]) return false;
  return true;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
