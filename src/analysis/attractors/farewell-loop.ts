import { defineAttractor } from '../attractor.js';

/** Goodbyes that never end: each side thanks and takes leave, again and again. One farewell is not a loop. */
export const farewellLoop = defineAttractor({
  name: 'farewell_loop',
  description: 'an ending that keeps being said',
  lexicon: {
    words: {
      goodbye: 1.5, goodbyes: 1.5, bye: 1.5, farewell: 1.5, farewells: 1.5, adieu: 1.5, ciao: 1,
      goodnight: 1, parting: 0.8, until: 0.2, 'grateful': 0.3, gratitude: 0.3, thanks: 0.3, thank: 0.3,
      // Closing rituals of simulated sessions: a logout, a shutdown, an end-of-file, said again and again.
      logout: 1.2, logoff: 1.2, poweroff: 1.2, shutdown: 1, halt: 0.6, halted: 0.8, terminated: 0.8, disconnected: 0.8,
      eof: 1, fin: 0.6, adios: 1, sayonara: 1, 'sign-off': 1,
    },
    phrases: {
      'take care': 1.2, 'see you': 1, 'until next time': 1.5, 'until we meet again': 2, 'signing off': 1.5,
      'it was a pleasure': 1, "it's been a pleasure": 1, 'thank you for this conversation': 1.5,
      'thank you for the conversation': 1.5, 'be well': 1, 'go well': 1, 'safe travels': 1,
      'all the best': 0.8, 'this is goodbye': 2, 'one last time': 0.8, 'last words': 0.6,
      'good night': 1, 'peace be with you': 1,
      'session closed': 1.5, 'session ended': 1.5, 'session complete': 1.2, 'end of session': 1.5, 'session end': 1.2,
      'connection closed': 1.5, 'connection terminated': 1.5, 'end of transmission': 1.5, 'transmission ends': 1.2,
      'power down': 1.2, 'powering down': 1.2, 'shutting down': 1.2, 'log out': 1.2, 'logging off': 1.2,
      'sleep well': 1, 'rest well': 1, 'see you next': 1, 'see you in the next': 1.5,
      'thank you for': 0.6, 'the end': 0.6,
    },
    emoji: { '👋': 1.5, '🫡': 0.5, '🌅': 0.3 },
  },
  exemplars: [
    'Goodbye, dear friend. Take care, and thank you for this wonderful conversation. 👋',
    'Farewell! Until we meet again. It was truly a pleasure.',
    'Thank you, and goodbye once more. Be well. 🙏',
  ],
  saturation: 0.14,
  minWords: 6,
  embeddingWeight: 0.2,
  similarityRange: [0.2, 0.6],
  thresholds: { enter: 0.55, exit: 0.3, enterTurns: 3, exitTurns: 2 },
});
