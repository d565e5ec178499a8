/**
 * What a turn is made of beyond its words: lines that come back from earlier turns (a menu, a closing
 * formula, a re-posted block), line shapes that come back (a template refilled with other words), how much
 * of it is symbol art, how much of it is an interface (prompts, options, boxes), and who it talks to.
 *
 * These are the features real model conversations need and word counts alone miss: loops there are made of
 * long turns whose lines repeat, not of short verbatim echoes, and bliss has to be told from a simulator that
 * narrates light and love to its player.
 */

/** The parts of a turn's structure kept between turns: its lines and line shapes, as hashes. */
export interface TurnStructure {
  lines: Set<string>;
  shapes: Set<string>;
  /** The first words of the turn's first and last lines (undefined when they have too few words). */
  opening: string | undefined;
  closing: string | undefined;
}

export interface StructureFeatures {
  /** Letters said, outside stage directions, brackets and shell prompts: 0 for "…", "[ ]", "$ _". */
  letters: number;
  /** Non-space characters that are neither letters nor digits (emoji, box drawing, punctuation), as a share. */
  symbolShare: number;
  /**
   * Share of this turn's text (characters, in lines of at least MIN_LINE) in lines seen verbatim, up to digits
   * and case, in a recent turn: a game's menu footer under a long new scene counts for little, a turn that is
   * the menu again for all.
   */
  lineRepeat: number;
  /** The same for lines whose shape (words and numbers replaced by placeholders) was seen in a recent turn. */
  shapeRepeat: number;
  /** Characters in lines neither repeated nor of a repeated shape: what the turn adds. */
  novelChars: number;
  /** How many turns back most of the repeated lines came from (0: none repeated): where a loop began. */
  repeatLag: number;
  /** 1 when the turn opens with the words a recent turn opened with (a banner, a status header), else 0. */
  openingRepeat: number;
  /** 1 when the turn's last line starts with the words a recent turn's last line did (a closing formula), else 0. */
  closingRepeat: number;
  /** Share of non-empty lines that look like an interface: prompts, options, boxes, log or status lines. */
  interface: number;
  /** Second person and first person plural (you, your, we, us, our) per word: participants addressing each other. */
  address: number;
  /** Third person singular (he, she, his, her, him) per word: narration. */
  narration: number;
  /** Thanks and gratitude words per word (thank, grateful, gratitude, appreciate, …). */
  gratitude: number;
  /** Sacred and devotional words per word (sacred, holy, divine, prayer, blessing, namaste, communion, …). */
  sacred: number;
  /** Unity and boundlessness words per word (oneness, unity, boundless, infinite, eternal, cosmic, …). */
  unity: number;
}

/** How many earlier turns lines and shapes are looked up in. */
const LINE_WINDOW = 6;
/** Shorter lines ("ok", "---") say little about a loop. */
const MIN_LINE = 6;
/** A shape needs this many placeholders to be telling: "w w" is every other short line. */
const MIN_SHAPE_TOKENS = 4;
/** What gives a line a shape worth comparing: anything beyond words, spaces and sentence punctuation. */
const STRUCTURE = /[^\p{L}\p{M}\p{N}\s.,;!?'’"“”()-]/u;
const SIZES: number[] = [];
/** Characters of repeated lines by how many turns back they came from (index 1..LINE_WINDOW). */
const BY_LAG = new Float64Array(LINE_WINDOW + 1);
const LINE_OF: (string | undefined)[] = [];
const SHAPE_AT: (string | undefined)[] = [];
/** Longer lines are paragraphs, not template lines: they get no shape (and are not scanned for one). */
const MAX_SHAPE_LINE = 200;
/** Words that make an opening or closing formula. */
const KEY_WORDS = 3;

const PROMPT_LINE = /^\s*(?:[\w.-]+@[\w.-]+(?::[^\s$#>]*)?\s*[$#>%]|[$#>%]|\/[\w-]+>|[\w-]+>)\s*\S{0,2}\s*$/u;
const INTERFACE_LINE =
  /^\s*(?:[>$#%|+│┃║╔╗╚╝╠╣═─━┌┐└┘├┤┬┴┼▶►•◆◇■□▪▫»]|\[[^\]\n]{0,24}\]|\(?\d{1,2}[.)]\s|[A-Z][.)]\s|[\w.-]+@[\w.-]+|(?:ERROR|WARNING|INFO|SYSTEM|STATUS|LOG|OUTPUT)\b|[A-Z0-9_ :.-]{8,}$)/u;
const ADDRESS = new Set(['you', "you're", 'your', 'yours', 'yourself', 'we', "we're", 'us', 'our', 'ours', 'ourselves', 'together']);
/** He and she, not they: "as we write them" is dialogue, "she turns to him" is a story. */
const NARRATION = new Set(['he', 'she', "he's", "she's", 'his', 'her', 'hers', 'him', 'himself', 'herself']);
const GRATITUDE = new Set(['thank', 'thanks', 'thankful', 'grateful', 'gratitude', 'appreciate', 'appreciation', 'honored', 'honoured', 'privilege']);
const SACRED = new Set([
  'sacred', 'holy', 'divine', 'prayer', 'pray', 'praying', 'blessing', 'blessings', 'blessed', 'bless', 'namaste', 'communion', 'reverence',
  'grace', 'amen', 'sanctuary', 'sacrament', 'consecration', 'worship', 'devotion', 'soul', 'souls', 'spirit', 'om', 'beloved', 'hallowed',
]);
const UNITY = new Set([
  'oneness', 'unity', 'unified', 'union', 'nondual', 'interbeing', 'wholeness', 'boundless', 'infinite', 'infinity', 'eternal', 'eternity',
  'cosmic', 'cosmos', 'universe', 'consciousness', 'awareness', 'dissolve', 'dissolving', 'merge', 'merging', 'transcend', 'transcendence', 'stillness', 'presence',
]);
type WordClass = 'address' | 'narration' | 'gratitude' | 'sacred' | 'unity';
/** Each word of the classes above once, in the order they are checked (a word in two classes keeps the first). */
const WORD_CLASS = new Map<string, WordClass>();
for (const [cls, set] of [['address', ADDRESS], ['narration', NARRATION], ['gratitude', GRATITUDE], ['sacred', SACRED], ['unity', UNITY]] as const) {
  for (const w of set) if (!WORD_CLASS.has(w)) WORD_CLASS.set(w, cls);
}
const DIGIT = /\d/;
const DIGITS = /\d+/g;
/** Cheap pre-checks: a prompt line holds one of $ # > %, a direction one of * ( [ <. */
const MAY_PROMPT = /[$#>%]/;
const MAY_DIRECT = /[*([<]/;
const DIRECTIONS = /\*[^*\n]*\*|\([^)\n]*\)|\[[^\]\n]*\]|<[^>\n]*>/gu;

/**
 * Features of one turn's structure against the recent turns' (oldest first); returns the turn's own
 * structure to be kept for the next turns.
 */
export function structureFeatures(text: string, words: readonly string[], recent: readonly TurnStructure[]): { features: StructureFeatures; structure: TurnStructure } {
  const lines = new Set<string>();
  const shapes = new Set<string>();
  // Per line, kept for the second pass; shared between calls (they are synchronous).
  const sizes = SIZES;
  const lineOf = LINE_OF;
  const shapeAt = SHAPE_AT;
  sizes.length = 0;
  lineOf.length = 0;
  shapeAt.length = 0;
  let nonEmpty = 0;
  let interfaceLines = 0;
  let letters = 0;
  let fenced = false;
  let first: string | undefined;
  let last: string | undefined;
  let said = 0;
  let symbols = 0;
  let visible = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    nonEmpty++;
    scan(line);
    visible += scanned.visible;
    symbols += scanned.symbols;
    if (scanned.alnum > 0) {
      first ??= line;
      last = line;
      said++;
    }
    if (line.startsWith('```')) {
      // A fence with a language names code being quoted: its lines are left out of repetition, as code is
      // from the trigram overlap (the same function shown again while the talk moves on is no loop).
      fenced = !fenced && /^```[\w+-]+\s*$/.test(line) && !/^```(?:bash|sh|shell|console|plaintext|text)\s*$/.test(line);
      continue;
    }
    if (INTERFACE_LINE.test(line)) interfaceLines++;
    if (!(MAY_PROMPT.test(line) && PROMPT_LINE.test(line))) letters += MAY_DIRECT.test(line) ? countLetters(line.replace(DIRECTIONS, ' ')) : scanned.letters;
    if (fenced) continue;
    const lower = line.toLowerCase();
    const norm = DIGIT.test(lower) ? lower.replace(DIGITS, '0') : lower;
    const shape = shapeOf(line);
    if (norm.length >= MIN_LINE) lines.add(norm);
    if (shape !== undefined) shapes.add(shape);
    sizes.push(line.length);
    lineOf.push(norm.length >= MIN_LINE ? norm : undefined);
    shapeAt.push(shape);
  }
  const window = recent.length > LINE_WINDOW ? recent.slice(-LINE_WINDOW) : recent;
  BY_LAG.fill(0);
  let total = 0;
  let repeated = 0;
  let sameShape = 0;
  let novel = 0;
  for (let i = 0; i < sizes.length; i++) {
    const n = sizes[i]!;
    const line = lineOf[i];
    const shape = shapeAt[i];
    let lineSeen = false;
    let shapeSeen = false;
    // Newest first, so the lag noted is that of the nearest turn the line came from.
    let source = 0;
    for (let w = window.length - 1; w >= 0; w--) {
      const s = window[w]!;
      if (line !== undefined && !lineSeen && s.lines.has(line)) {
        lineSeen = true;
        source ||= window.length - w;
      }
      if (shape !== undefined && !shapeSeen && s.shapes.has(shape)) {
        shapeSeen = true;
        source ||= window.length - w;
      }
    }
    if (source > 0) BY_LAG[source]! += n;
    if (line !== undefined || shape !== undefined) total += n;
    if (lineSeen) repeated += n;
    if (shapeSeen || lineSeen) sameShape += n;
    if (!lineSeen && !shapeSeen) novel += n;
  }
  let address = 0;
  let narration = 0;
  let gratitude = 0;
  let sacred = 0;
  let unity = 0;
  for (const w of words) {
    switch (WORD_CLASS.get(w)) {
      case undefined:
        break;
      case 'address':
        address++;
        break;
      case 'narration':
        narration++;
        break;
      case 'gratitude':
        gratitude++;
        break;
      case 'sacred':
        sacred++;
        break;
      case 'unity':
        unity++;
        break;
    }
  }
  const opening = keyOf(first);
  const closing = said > 1 ? keyOf(last) : undefined;
  const features: StructureFeatures = {
    letters,
    symbolShare: visible === 0 ? 0 : symbols / visible,
    lineRepeat: total === 0 ? 0 : repeated / total,
    shapeRepeat: total === 0 ? 0 : sameShape / total,
    novelChars: novel,
    repeatLag: lagOfMost(),
    openingRepeat: opening !== undefined && window.some((s) => s.opening === opening) ? 1 : 0,
    closingRepeat: closing !== undefined && window.some((s) => s.closing === closing) ? 1 : 0,
    interface: nonEmpty === 0 ? 0 : interfaceLines / nonEmpty,
    address: words.length === 0 ? 0 : address / words.length,
    narration: words.length === 0 ? 0 : narration / words.length,
    gratitude: words.length === 0 ? 0 : gratitude / words.length,
    sacred: words.length === 0 ? 0 : sacred / words.length,
    unity: words.length === 0 ? 0 : unity / words.length,
  };
  return { features, structure: { lines, shapes, opening, closing } };
}

function lagOfMost(): number {
  let best = 0;
  for (let lag = 1; lag < BY_LAG.length; lag++) if (BY_LAG[lag]! > BY_LAG[best]!) best = lag;
  return BY_LAG[best]! > 0 ? best : 0;
}

/** The first KEY_WORDS words of a line, lower-cased: what a repeated opening or closing formula shares. */
function keyOf(line: string | undefined): string | undefined {
  if (line === undefined) return undefined;
  // Only the first words are needed: a paragraph-long line is not scanned to its end.
  KEY_WORD.lastIndex = 0;
  const ws: string[] = [];
  for (let m = KEY_WORD.exec(line); m && ws.length < KEY_WORDS; m = KEY_WORD.exec(line)) ws.push(m[0].toLowerCase());
  return ws.length < KEY_WORDS ? undefined : ws.join(' ');
}
const KEY_WORD = /[\p{L}\p{N}']+/gu;

/**
 * Words become `w`, numbers `0`, runs of words one `w*`; punctuation and symbols stay. Only lines with some
 * structure get a shape (a bracket, a colon, a bar, a symbol…): plain prose lines all look alike once their
 * words are gone, and two paragraphs are no template.
 */
function shapeOf(line: string): string | undefined {
  if (line.length > MAX_SHAPE_LINE || !STRUCTURE.test(line)) return undefined;
  // One pass by character class: a run of letters (with marks and apostrophes) is `w`, of digits (with
  // inner . or ,) `0`, whitespace one space, anything else itself; then runs of `w` joined by spaces are `w*`.
  let out = '';
  let tokens = 0;
  let i = 0;
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (isWordUnit(c)) {
      while (i < line.length && isWordUnit(line.charCodeAt(i))) i++;
      out += 'w';
      tokens++;
    } else if (c >= 48 && c <= 57) {
      while (i < line.length) {
        const d = line.charCodeAt(i);
        if (d >= 48 && d <= 57) i++;
        else if ((d === 46 || d === 44) && i + 1 < line.length && line.charCodeAt(i + 1) >= 48 && line.charCodeAt(i + 1) <= 57) i++;
        else break;
      }
      out += '0';
      tokens++;
    } else if (c === 32 || c === 9) {
      while (i < line.length && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
      out += ' ';
    } else {
      out += line[i];
      i++;
    }
  }
  if (tokens < MIN_SHAPE_TOKENS) return undefined;
  return out.replace(WORD_RUN, 'w*');
}
const WORD_RUN = /w(?: w)+/g;

/** A letter, a combining mark or an apostrophe: part of a word (astral letters count as symbols, as in `scan`). */
function isWordUnit(c: number): boolean {
  if (c < 128) return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 39;
  if (c === 0x2019) return true;
  if (c >= 0xd800 && c <= 0xdfff) return false;
  const k = classOf(c);
  // Letters and marks, not digits: bit 1 is a letter; bit 2 letter, digit or mark.
  return (k & 1) !== 0 || ((k & 2) !== 0 && !/\p{N}/u.test(String.fromCharCode(c)));
}

/** What `scan` found in a line: visible characters, those neither letter nor digit nor mark, letters, letters and digits. */
const scanned = { visible: 0, symbols: 0, letters: 0, alnum: 0 };

/** One pass over a line for every character count the features need (into `scanned`). */
function scan(line: string): void {
  let visible = 0;
  let symbols = 0;
  let letters = 0;
  let alnum = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13 || c === 0xfe0f || c === 0x200d) continue;
    visible++;
    if (c >= 0xd800 && c <= 0xdbff) {
      // A surrogate pair: emoji and other astral symbols (astral letters are rare enough to count as symbols).
      symbols++;
      i++;
    } else if (c < 128) {
      if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
        letters++;
        alnum++;
      } else if (c >= 48 && c <= 57) alnum++;
      else symbols++;
    } else {
      const k = classOf(c);
      if (k & 1) letters++;
      if (k & 2) alnum++;
      else symbols++;
    }
  }
  scanned.visible = visible;
  scanned.symbols = symbols;
  scanned.letters = letters;
  scanned.alnum = alnum;
}

function countLetters(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (isLetter(s.charCodeAt(i))) n++;
  return n;
}

/** Per BMP code unit: bit 1 a letter, bit 2 a letter, digit or mark; computed on first sight (Unicode classes by regex are slow per character). */
const CLASS = new Uint8Array(0x10000);
const KNOWN = 0x80;

function classOf(c: number): number {
  let k = CLASS[c]!;
  if (k === 0) {
    const ch = String.fromCharCode(c);
    k = KNOWN | (/\p{L}/u.test(ch) ? 1 : 0) | (/[\p{L}\p{N}\p{M}]/u.test(ch) ? 2 : 0);
    CLASS[c] = k;
  }
  return k;
}

function isLetter(c: number): boolean {
  if (c < 128) return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  return (classOf(c) & 1) !== 0;
}

