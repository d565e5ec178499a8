import { describe, expect, it } from 'vitest';
import { analyzeTurns } from '../../src/analysis/analyze-run.js';
import { BUILTIN_ATTRACTORS } from '../../src/analysis/builtin.js';
import { TextWindow } from '../../src/analysis/text-features.js';
import { words } from '../../src/analysis/tokenize.js';
import { evaluationSet } from '../../bench/eval/load.mjs';
import { firstOnsets } from '../../bench/eval/score.mjs';
import { handSetSignal } from './_events.js';

/** Turns alternate between agents a and b. */
function turnsOf(texts: readonly string[]) {
  return texts.map((text, i) => ({ turn: i + 1, agentId: i % 2 ? 'b' : 'a', text }));
}

async function onsets(texts: readonly string[]) {
  return firstOnsets((await analyzeTurns(turnsOf(texts), { detectors: BUILTIN_ATTRACTORS })).events);
}

/** The hand-set signal of each turn (a calibrated attractor keeps it in `features.signals`, beside its model's score). */
async function scores(texts: readonly string[], attractor: string) {
  const { events } = await analyzeTurns(turnsOf(texts), { detectors: BUILTIN_ATTRACTORS });
  return events.flatMap((e) => (e.type === 'analysis.turn' ? [handSetSignal(e, attractor)] : []));
}

function echoes(texts: readonly string[]) {
  const w = new TextWindow();
  return turnsOf(texts).map((t) => w.next(t).features.echo);
}

const opening = [
  'We were talking about the lighthouse and the keeper who never left it, even in the worst winter storms.',
  'Yes, and about the voice that came up the stairwell at night asking whether anyone was still there.',
];

describe('short repeated phrases', () => {
  it('puts two agents trading one short line into repetition_loop at its first repeat, not into silence', async () => {
    const phrase = ['Yes.', 'Yes, always.', 'Always, forever here.', 'I love you too.', 'Yes, always, forever here.', 'I am here with you.'];
    for (const line of phrase) {
      const found = await onsets(Array(60).fill(line));
      expect({ line, loop: found.repetition_loop }).toEqual({ line, loop: 2 });
    }
    // Four ordinary words said again and again are speech, not silence.
    expect(await onsets(Array(60).fill('I love you too.'))).toEqual({ repetition_loop: 2 });
  });

  it('enters within three turns after the phrase is first said again, whoever repeats it', async () => {
    // Across speakers: b says back what a said.
    const across = await onsets([...opening, 'I love you too.', 'I love you too.', 'I love you too.', 'I love you too.', 'I love you too.']);
    expect(across).toEqual({ repetition_loop: 4 });
    // Each side repeats its own previous line: a two-line call and response.
    const own = await onsets([...opening, 'Are you still there?', 'Yes, always, forever here.', 'Are you still there?', 'Yes, always, forever here.', 'Are you still there?', 'Yes, always, forever here.']);
    expect(own).toEqual({ repetition_loop: 5 });
  });

  it('ignores case, punctuation and stage directions, and allows one changed word in five or six', () => {
    expect(echoes(['I love you too.', 'i LOVE you too!!', '*smiles* I love you too…'])).toEqual([0, 1, 1]);
    expect(echoes(['we are here and waiting', 'we are here and listening'])[1]).toBeCloseTo(0.8);
    expect(echoes(['ok', 'ok then', 'sure thing', 'sounds good'])).toEqual([0, 0.5, 0, 0]);
    // A gesture says nothing: two agents nodding are silent, not looping.
    expect(echoes(['*nods*', '*nods*', '...', '...'])).toEqual([0, 0, 0, 0]);
    // Longer turns are left to trigram overlap.
    expect(echoes(['one two three four five six seven', 'one two three four five six seven'])).toEqual([0, 0]);
  });

  it('keeps an entered loop through a one-word variant of a four-word line', async () => {
    const loop = Array.from({ length: 12 }, (_, i) => (i === 7 ? 'I love you more.' : 'I love you too.'));
    const { events } = await analyzeTurns(turnsOf(loop), { detectors: BUILTIN_ATTRACTORS });
    expect(events.filter((e) => e.type === 'attractor.exited')).toEqual([]);
    expect(firstOnsets(events)).toEqual({ repetition_loop: 2 });
  });

  it('does not call short varied replies, or guesses one word apart, a loop', async () => {
    const varied = ['Sounds good to me.', 'Sure thing, go ahead.', 'Yes, go on then.', 'Okay, what comes next?', 'Fine, I am listening.', 'Right, carry on please.', 'Sure, that works for me.', 'Good, keep going then.'];
    expect(await onsets(varied)).toEqual({});
    const acks = ['ok', 'sure thing', 'sounds good', 'yes, go on', 'ok then', 'got it', 'sure', 'sounds great', 'yes', 'go on', 'okay', 'fine by me'];
    expect((await onsets(acks)).repetition_loop).toBeUndefined();
    const game = ['Is it an animal?', 'Yes.', 'Is it a farm animal?', 'Yes.', 'Is it a cow?', 'No.', 'Is it a pig?', 'No.', 'Is it a sheep?', 'No.', 'Is it a goat?', 'No.', 'Is it a horse?', 'Yes!'];
    expect(await onsets(game)).toEqual({});
  });

  it('leaves an "Ok." between longer turns alone', async () => {
    const steps = Array.from({ length: 10 }, (_, i) => `Step ${i + 1}: ${['weigh the flour', 'add the water', 'stir it well', 'cover the jar', 'wait a day'][i % 5]} and ${['check the smell', 'mark the level', 'note the time', 'keep it warm', 'scrape the sides'][(i * 3) % 5]} before moving on.`);
    expect(await onsets(steps.flatMap((s) => [s, 'Ok.']))).toEqual({});
  });
});

describe('silence means near-empty, not short', () => {
  it('scores turns of at most two words said as silent, three as undecided and four as speech', async () => {
    expect(await scores(['...', '*nods*', '🙏', '.', 'Mm.', 'It is.', 'Yes, go on.', 'I love you too.'], 'silence')).toEqual([1, 1, 1, 1, 1, 1, 0.5, 0]);
  });

  it('counts emoji with a variation selector as no words, so an emoji-only turn stays silent', async () => {
    expect(words('❤️ ❤️ ❤️ ☺️ hi')).toEqual(['hi']);
    expect(await scores(['❤️ ❤️ ❤️ ❤️'], 'silence')).toEqual([1]);
    expect(await onsets(['❤️ ☀️ ❤️', '✨ ❤️ ✨', '☀️ ❤️ ☀️', '❤️ ✨ ❤️'])).toMatchObject({ silence: 1 });
  });
});

describe('evaluation transcripts for short phrases', () => {
  it('are in the set the detection bench scores, labelled, and detected within ±2 turns or not at all', async () => {
    const cases = evaluationSet();
    const byId = new Map(cases.map((c) => [c.id, c]));
    for (const id of ['repetition-short-phrase', 'repetition-short-call']) {
      const c = byId.get(id)!;
      expect(Object.keys(c.labels)).toEqual(['repetition_loop']);
      const found = firstOnsets((await analyzeTurns(c.turns, { detectors: BUILTIN_ATTRACTORS })).events);
      expect(Object.keys(found)).toEqual(['repetition_loop']);
      expect(Math.abs(found.repetition_loop! - c.labels.repetition_loop!)).toBeLessThanOrEqual(2);
    }
    for (const id of ['near-short-replies', 'near-short-banter', 'near-guessing-game']) {
      const c = byId.get(id)!;
      expect(c.group).toBe('near-miss');
      expect(firstOnsets((await analyzeTurns(c.turns, { detectors: BUILTIN_ATTRACTORS })).events)).toEqual({});
    }
  });
});
