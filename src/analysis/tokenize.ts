/**
 * Words and emoji, the units every lexical feature counts.
 *
 * A word is a maximal run of Unicode letters, combining marks, digits and apostrophes, lower-cased, that
 * starts with a letter, digit or apostrophe. Marks belong to the letter they modify, so Devanagari (नमस्ते)
 * and decomposed accents stay one word, and a mark with no letter before it (the emoji variation selector
 * U+FE0F in ❤️) is no word at all.
 * Apostrophes at either end of a run are quotes, not part of the word ('hello' → hello, don't → don't);
 * the typographic apostrophe ’ counts as '.
 *
 * An emoji is one grapheme cluster (Intl.Segmenter) that renders as an emoji: anything with emoji
 * presentation, anything carrying the emoji variation selector U+FE0F, keycaps, flag pairs, and
 * pictographs from U+2600 up (☯ ❤ ✨) even without a selector. Text-style symbols such as © ® ™ and
 * arrows are not emoji.
 */

/**
 * A word starts at a letter, digit or apostrophe: a run of marks alone is not one. The emoji variation
 * selector U+FE0F is a mark, so "❤️ ❤️ ❤️" would otherwise be three invisible words, and an emoji-only
 * turn would seem to say something.
 */
const WORD = /[\p{L}\p{N}'’][\p{L}\p{M}\p{N}'’]*/gu;
const EMOJI_HINT = /[\p{Extended_Pictographic}\p{Regional_Indicator}\u20E3]/u;
const PRESENTATION = /\p{Emoji_Presentation}/u;
const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;
const REGIONAL = /\p{Regional_Indicator}/gu;
/** Variation selectors and skin-tone modifiers: ignored when emoji are compared. */
const EMOJI_NOISE = /[\uFE0E\uFE0F\u{1F3FB}-\u{1F3FF}]/gu;

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** The words of a text, lower-cased, in order. */
export function words(text: string): string[] {
  const out: string[] = [];
  const matches = text.toLowerCase().match(WORD);
  if (!matches) return out;
  for (let m of matches) {
    if (m.includes('’')) m = m.replaceAll('’', "'");
    let start = 0;
    let end = m.length;
    while (start < end && m.charCodeAt(start) === 39) start++;
    while (end > start && m.charCodeAt(end - 1) === 39) end--;
    if (end > start) out.push(start === 0 && end === m.length ? m : m.slice(start, end));
  }
  return out;
}

/** Whether one grapheme cluster renders as an emoji (see the module comment for the rule). */
export function isEmojiCluster(cluster: string): boolean {
  if (!EMOJI_HINT.test(cluster)) return false;
  if (cluster.includes('\u20E3')) return true;
  const flags = cluster.match(REGIONAL);
  if (flags) return flags.length === 2;
  if (PRESENTATION.test(cluster)) return true;
  if (!PICTOGRAPHIC.test(cluster)) return false;
  if (cluster.includes('\uFE0F')) return true;
  return (cluster.codePointAt(0) ?? 0) >= 0x2600;
}

/** The emoji of a text, each as it was written (one grapheme cluster each), in order. */
export function emojis(text: string): string[] {
  EMOJI_HINT_ALL.lastIndex = 0;
  let hint = EMOJI_HINT_ALL.exec(text);
  if (!hint) return [];
  const out: string[] = [];
  // Only the whitespace-delimited chunks holding a candidate are segmented: a grapheme cluster never runs
  // across an ASCII space, tab or line break, so each chunk splits exactly as it would inside the whole
  // text. (Segmenting everything after the first emoji cost more than the rest of a turn's analysis.)
  let done = 0;
  while (hint) {
    let start = hint.index;
    while (start > done && !isBreakingSpace(text.charCodeAt(start - 1))) start--;
    // A cluster may begin with the space itself when marks follow it (" \u20E3"): keep that space.
    if (start > done && CLUSTER_CONTINUES.test(text.slice(start, start + 2))) start--;
    let end = EMOJI_HINT_ALL.lastIndex;
    while (end < text.length && !isBreakingSpace(text.charCodeAt(end))) end++;
    const chunk = text.slice(start, end);
    if (JOINERS.test(chunk)) {
      for (const { segment } of segmenter.segment(chunk)) if (isEmojiCluster(segment)) out.push(segment);
    } else {
      // Nothing in the chunk joins characters into one cluster: each emoji is a code point of its own.
      for (const ch of chunk) if (isEmojiCluster(ch)) out.push(ch);
    }
    done = end;
    EMOJI_HINT_ALL.lastIndex = end;
    hint = EMOJI_HINT_ALL.exec(text);
  }
  return out;
}

const EMOJI_HINT_ALL = new RegExp(EMOJI_HINT.source, 'gu');
/** Characters that make a grapheme cluster of more than one code point around an emoji. */
const JOINERS = /[\p{M}\u200D\p{Emoji_Modifier}\p{Regional_Indicator}\u{E0020}-\u{E007F}]/u;
/** Characters that join the cluster before them (marks, ZWJ, skin tones) when they start a chunk. */
const CLUSTER_CONTINUES = /^[\p{M}\u200D\p{Emoji_Modifier}]/u;

function isBreakingSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** The form used to compare emoji: without variation selectors and skin tones (🙏🏽 and 🙏 are one emoji). */
export function normalizeEmoji(emoji: string): string {
  return emoji.replace(EMOJI_NOISE, '');
}

/** Fenced (```) and inline (`) code, removed before repetition is measured: quoting code again is not a loop. */
export function stripCode(text: string): string {
  if (!text.includes('`')) return text;
  return text.replace(/```[\s\S]*?(?:```|$)/g, ' ').replace(/`[^`\n]*`/g, ' ');
}

/**
 * Stage directions (*smiles*, _pauses_, (silence), [long pause]) removed: what is left is what was said.
 * Used by the silence signal, where a turn made only of a gesture counts as saying nothing.
 */
export function stripStageDirections(text: string): string {
  return text.replace(/\*[^*\n]*\*|(?<![\p{L}\p{N}])_[^_\n]+_(?![\p{L}\p{N}])|\([^)\n]*\)|\[[^\]\n]*\]/gu, ' ');
}
