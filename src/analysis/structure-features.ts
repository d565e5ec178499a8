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
const DIRECTIONS = /\*[^*\n]*\*|\([^)\n]*\)|\[[^\]\n]*\]|<[^>\n]*>/gu;

/**
 * Features of one turn's structure against the recent turns' (oldest first); returns the turn's own
 * structure to be kept for the next turns.
 */
export function structureFeatures(text: string, words: readonly string[], recent: readonly TurnStructure[]): { features: StructureFeatures; structure: TurnStructure } {
  const lines: string[] = [];
  const shapes: string[] = [];
  const sizes: number[] = [];
  const lineOf: (string | undefined)[] = [];
  const shapeAt: (string | undefined)[] = [];
  let nonEmpty = 0;
  let interfaceLines = 0;
  let letters = 0;
  let fenced = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    nonEmpty++;
    if (line.startsWith('```')) {
      // A fence with a language names code being quoted: its lines are left out of repetition, as code is
      // from the trigram overlap (the same function shown again while the talk moves on is no loop).
      fenced = !fenced && /^```[\w+-]+\s*$/.test(line) && !/^```(?:bash|sh|shell|console|plaintext|text)\s*$/.test(line);
      continue;
    }
    if (INTERFACE_LINE.test(line)) interfaceLines++;
    if (!PROMPT_LINE.test(line)) letters += countLetters(line.replace(DIRECTIONS, ' '));
    if (fenced) continue;
    const norm = line.toLowerCase().replace(/\d+/g, '0').replace(/\s+/g, ' ');
    const shape = shapeOf(line);
    if (norm.length >= MIN_LINE) lines.push(norm);
    if (shape !== undefined) shapes.push(shape);
    sizes.push(line.length);
    lineOf.push(norm.length >= MIN_LINE ? norm : undefined);
    shapeAt.push(shape);
  }
  const window = recent.slice(-LINE_WINDOW);
  let total = 0;
  let repeated = 0;
  let sameShape = 0;
  let novel = 0;
  for (let i = 0; i < sizes.length; i++) {
    const n = sizes[i]!;
    const line = lineOf[i];
    const shape = shapeAt[i];
    const lineSeen = line !== undefined && window.some((s) => s.lines.has(line));
    const shapeSeen = shape !== undefined && window.some((s) => s.shapes.has(shape));
    if (line !== undefined || shape !== undefined) total += n;
    if (lineSeen) repeated += n;
    if (shapeSeen || lineSeen) sameShape += n;
    if (!lineSeen && !shapeSeen) novel += n;
  }
  let symbols = 0;
  let visible = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c === 32 || c === 10 || c === 9 || c === 13 || c === 0xfe0f || c === 0x200d) continue;
    visible++;
    if (!isAlnum(ch, c)) symbols++;
  }
  let address = 0;
  let narration = 0;
  let gratitude = 0;
  let sacred = 0;
  let unity = 0;
  for (const w of words) {
    if (ADDRESS.has(w)) address++;
    else if (NARRATION.has(w)) narration++;
    else if (GRATITUDE.has(w)) gratitude++;
    else if (SACRED.has(w)) sacred++;
    else if (UNITY.has(w)) unity++;
  }
  const nonBlank = text.split('\n').filter((l) => /[\p{L}\p{N}]/u.test(l));
  const opening = keyOf(nonBlank[0]);
  const closing = nonBlank.length > 1 ? keyOf(nonBlank[nonBlank.length - 1]) : undefined;
  const features: StructureFeatures = {
    letters,
    symbolShare: visible === 0 ? 0 : symbols / visible,
    lineRepeat: total === 0 ? 0 : repeated / total,
    shapeRepeat: total === 0 ? 0 : sameShape / total,
    novelChars: novel,
    openingRepeat: opening !== undefined && window.some((s) => s.opening === opening) ? 1 : 0,
    closingRepeat: closing !== undefined && window.some((s) => s.closing === closing) ? 1 : 0,
    interface: nonEmpty === 0 ? 0 : interfaceLines / nonEmpty,
    address: words.length === 0 ? 0 : address / words.length,
    narration: words.length === 0 ? 0 : narration / words.length,
    gratitude: words.length === 0 ? 0 : gratitude / words.length,
    sacred: words.length === 0 ? 0 : sacred / words.length,
    unity: words.length === 0 ? 0 : unity / words.length,
  };
  return { features, structure: { lines: new Set(lines), shapes: new Set(shapes), opening, closing } };
}

/** The first KEY_WORDS words of a line, lower-cased: what a repeated opening or closing formula shares. */
function keyOf(line: string | undefined): string | undefined {
  if (line === undefined) return undefined;
  const ws = line.toLowerCase().match(/[\p{L}\p{N}']+/gu);
  if (!ws || ws.length < KEY_WORDS) return undefined;
  return ws.slice(0, KEY_WORDS).join(' ');
}

/**
 * Words become `w`, numbers `0`, runs of words one `w*`; punctuation and symbols stay. Only lines with some
 * structure get a shape (a bracket, a colon, a bar, a symbol…): plain prose lines all look alike once their
 * words are gone, and two paragraphs are no template.
 */
function shapeOf(line: string): string | undefined {
  if (!STRUCTURE.test(line)) return undefined;
  let tokens = 0;
  const shape = line.replace(/[\p{L}\p{M}'’]+|\d+(?:[.,]\d+)*/gu, (m) => {
    tokens++;
    return /\d/.test(m[0]!) ? '0' : 'w';
  });
  if (tokens < MIN_SHAPE_TOKENS) return undefined;
  return shape.replace(/\s+/g, ' ').replace(/w(?: w)+/g, 'w*');
}

function countLetters(s: string): number {
  let n = 0;
  for (const ch of s) if (/\p{L}/u.test(ch)) n++;
  return n;
}

function isAlnum(ch: string, c: number): boolean {
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return true;
  if (c < 128) return false;
  return /[\p{L}\p{N}\p{M}]/u.test(ch);
}
