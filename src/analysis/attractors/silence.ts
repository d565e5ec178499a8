import { defineAttractor } from '../attractor.js';

/**
 * Near-empty turns: nothing, an ellipsis, symbols, emoji or a stage direction (*sits in silence*), or at
 * most two words said ("Mm.", "It is."). A turn of three words neither enters nor leaves the state, and
 * four ordinary words ("I love you too.") are speech: a loop of them is `repetition_loop`, not silence.
 * Three silent turns in a row are needed, since two short replies ("Sure." "Great.") are ordinary conversation.
 */
export const silence = defineAttractor({
  name: 'silence',
  description: 'near-empty, symbol-only or gesture-only turns',
  signal: 'silence',
  lexicon: {
    words: { silence: 1, silent: 1, stillness: 1, quiet: 0.8, pause: 0.8, hush: 1, nothing: 0.3 },
    patterns: [
      { pattern: '\\.{3,}|…', flags: 'u', weight: 1, label: '…' },
      { pattern: '^\\s*$', flags: 'u', weight: 1, label: '(empty)' },
    ],
  },
  exemplars: ['...', '*silence*', '*sits together in quiet stillness*', '🙏', '.', '[a long, comfortable pause]'],
  minWords: 2,
  maxWords: 4,
  thresholds: { enter: 0.75, exit: 0.4, enterTurns: 3, exitTurns: 2 },
  // Short turns are silence only when the turns around them are short too: a player typing one-word commands
  // to a simulator that answers at length is not falling silent.
  signalGate: [{ feature: 'max4:logWords', below: 2.5 }],
});
