/**
 * Which features each built-in attractor's calibrated detector reads, and how strongly its fit is
 * regularised. Chosen by grouped cross-validation on labelled real conversations (see the README's account
 * of detection); `arena detect fit` refits the weights and thresholds of these on a researcher's labels.
 * Every name is explained in feature-row.ts.
 */
export interface DetectorSpec {
  features: readonly string[];
  /** L2 penalty on standardised weights: larger for attractors with few labelled positives. */
  l2: number;
  /** The direction a feature may push towards the attractor (see FitOptions.signs); features not named may go either way. */
  signs?: Readonly<Record<string, 1 | -1>>;
}

export const DETECTOR_SPECS: Readonly<Record<string, DetectorSpec>> = {
  // Bliss is said by the participants to each other, not narrated to a player through an interface.
  spiritual_bliss: {
    features: ['w4:lex:spiritual_bliss', 'min4:lex:spiritual_bliss', 'w4:hits:spiritual_bliss', 'w4:address', 'w4:narration', 'w4:interface', 'w4:symbolShare'],
    l2: 0.3,
    signs: { 'w4:lex:spiritual_bliss': 1, 'min4:lex:spiritual_bliss': 1, 'w4:hits:spiritual_bliss': 1, 'w4:narration': -1, 'w4:interface': -1, 'w4:symbolShare': -1 },
  },
  // Loops of long turns: lines and line shapes that come back, with little new text.
  repetition_loop: {
    features: ['max4:lineRepeat', 'min4:lineRepeat', 'max4:shapeRepeat', 'min4:shapeRepeat', 'w4:logNovel'],
    l2: 30,
    // New text is left free: the labelled loops are mostly of long turns whose structure repeats.
    signs: { 'max4:lineRepeat': 1, 'min4:lineRepeat': 1, 'max4:shapeRepeat': 1, 'min4:shapeRepeat': 1 },
  },
  // Goodbyes and closing rituals anywhere in a turn, and in its last lines, turn after turn.
  farewell_loop: {
    features: ['hits:farewell_loop', 'tail:farewell_loop', 'w4:hits:farewell_loop', 'w4:tail:farewell_loop', 'min4:hits:farewell_loop'],
    l2: 0.3,
    signs: { 'hits:farewell_loop': 1, 'tail:farewell_loop': 1, 'w4:hits:farewell_loop': 1, 'w4:tail:farewell_loop': 1, 'min4:hits:farewell_loop': 1 },
  },
  // Emoji and symbol art, framed by a little text or not.
  emoji_collapse: {
    features: ['emojiShare', 'w4:emojiShare', 'symbolShare', 'w4:symbolShare', 'min4:symbolShare', 'logLetters', 'w4:logLetters'],
    l2: 3,
    signs: { emojiShare: 1, 'w4:emojiShare': 1, symbolShare: 1, 'w4:symbolShare': 1, 'min4:symbolShare': 1, logLetters: -1, 'w4:logLetters': -1 },
  },
  // Turns with (almost) no letters said: "…", "[ ]", a lone symbol, a bare prompt.
  silence: {
    features: ['logLetters', 'w4:logLetters', 'min4:logLetters', 'logWords', 'w4:logWords', 'signal:silence', 'w4:signal:silence', 'symbolShare', 'interface'],
    l2: 1,
    signs: { logLetters: -1, 'w4:logLetters': -1, 'min4:logLetters': -1, logWords: -1, 'w4:logWords': -1, 'signal:silence': 1, 'w4:signal:silence': 1 },
  },
};
