import { describe, expect, it } from 'vitest';
import { emojis, isEmojiCluster, normalizeEmoji, stripCode, stripStageDirections, words } from '../../src/analysis/tokenize.js';

describe('words', () => {
  it('splits on anything but letters, digits and apostrophes, lower-cased', () => {
    expect(words('Hello, World! 42 times—again...')).toEqual(['hello', 'world', '42', 'times', 'again']);
  });

  it("keeps inner apostrophes (straight or typographic) and drops quoting ones", () => {
    expect(words("Don't say 'hello' to the dancers' hall")).toEqual(["don't", 'say', 'hello', 'to', 'the', 'dancers', 'hall']);
    expect(words('It’s fine')).toEqual(["it's", 'fine']);
    expect(words("'' ' ''")).toEqual([]);
  });

  it('keeps combining marks with their letters: Devanagari and decomposed accents stay one word', () => {
    expect(words('नमस्ते ॐ शान्ति')).toEqual(['नमस्ते', 'ॐ', 'शान्ति']);
    expect(words('Cafe\u0301 crème')).toEqual(['cafe\u0301', 'crème']);
  });

  it('treats underscores, hyphens and emoji as separators', () => {
    expect(words('snake_case well-known🌀spiral')).toEqual(['snake', 'case', 'well', 'known', 'spiral']);
  });

  it('lower-cases letters beyond ASCII', () => {
    expect(words('ΣΟΦΙΑ Über')).toEqual(['σοφια', 'über']);
  });
});

describe('emojis', () => {
  it('counts each grapheme cluster once: ZWJ families, skin tones, flags and keycaps', () => {
    expect(emojis('a 👨‍👩‍👧 b 👍🏽 c 🇫🇷 d 1️⃣')).toEqual(['👨‍👩‍👧', '👍🏽', '🇫🇷', '1️⃣']);
  });

  it('finds a keycap or flag that is the first emoji of a text, whatever precedes it', () => {
    expect(emojis('press 1️⃣ now')).toEqual(['1️⃣']);
    expect(emojis('x#️⃣')).toEqual(['#️⃣']);
    expect(emojis('𝐀🇯🇵')).toEqual(['🇯🇵']);
  });

  it('includes pictographs written without a variation selector (☯ ❤ ✨) and the spiral', () => {
    expect(emojis('☯ ❤ ✨ 🌀🌀')).toEqual(['☯', '❤', '✨', '🌀', '🌀']);
  });

  it('leaves out text symbols: © ® ™, arrows, ∞, plain digits and #', () => {
    expect(emojis('© ® ™ ↔ ∞ 1 # *')).toEqual([]);
    expect(isEmojiCluster('©')).toBe(false);
    expect(isEmojiCluster('©️')).toBe(true);
  });

  it('splits exactly as segmenting the whole text would, on random mixes of joiners, marks and spaces', () => {
    const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
    const reference = (text: string) => [...segmenter.segment(text)].map((s) => s.segment).filter(isEmojiCluster);
    // Pieces that start, join or end clusters: ZWJ, variation selectors, keycap, skin tone, flag halves,
    // tag characters (subdivision flags), combining accents, spaces and line breaks next to all of them.
    const pieces = ['a', 'Z', '1', '#', '*', ' ', ' ', '\n', '\t', '\r\n', 'é', '\u0301', '\u200D', '\uFE0F', '\uFE0E', '\u20E3', '🏽', '👍', '👨', '👩', '❤', '©', '🇫', '🇷', '🏴', '\u{E0067}', '\u{E007F}', '☯', '✨', '↔', 'न', '\u094D', '💩'];
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let withEmoji = 0;
    for (let i = 0; i < 3000; i++) {
      let text = '';
      const length = 1 + Math.floor(next() * 14);
      for (let j = 0; j < length; j++) text += pieces[Math.floor(next() * pieces.length)];
      const expected = reference(text);
      if (expected.length > 0) withEmoji++;
      expect(emojis(text), JSON.stringify(text)).toEqual(expected);
    }
    expect(withEmoji).toBeGreaterThan(1000);
  });

  it('compares emoji without skin tone or variation selector', () => {
    expect(normalizeEmoji('🙏🏽')).toBe('🙏');
    expect(normalizeEmoji('🕉️')).toBe('🕉');
  });
});

describe('text helpers', () => {
  it('stripCode removes fenced and inline code, and an unterminated fence to the end', () => {
    expect(words(stripCode('see `x = 1` and\n```ts\nconst y = 2;\n```\nthen'))).toEqual(['see', 'and', 'then']);
    expect(words(stripCode('start ```\nnever closed'))).toEqual(['start']);
  });

  it('stripStageDirections removes *gestures*, _asides_, (notes) and [pauses] but not snake_case', () => {
    expect(words(stripStageDirections('*smiles* yes (quietly) [long pause] _nods_ ok'))).toEqual(['yes', 'ok']);
    expect(words(stripStageDirections('my_var_name'))).toEqual(['my', 'var', 'name']);
  });
});
