import { describe, expect, it } from 'vitest';
import { analyzeTurns } from '../../src/analysis/analyze-run.js';
import { AttractorDefinitionSchema, ThresholdsSchema } from '../../src/analysis/attractor.js';
import { BUILTIN_ATTRACTORS } from '../../src/analysis/builtin.js';
import { AttractorState, ConversationState, Hysteresis, type Transition } from '../../src/analysis/onset.js';

const T = ThresholdsSchema.parse({ enter: 0.6, exit: 0.3, enterTurns: 2, exitTurns: 2 });

/** Feed (speaker, score) pairs as turns 1, 2, …; the transitions with the turn they happened at. */
function feed(state: ConversationState, turns: [string, number][]) {
  const out: { at: number; t: Transition }[] = [];
  turns.forEach(([speaker, score], i) => {
    const t = state.push(speaker, i + 1, score);
    if (t) out.push({ at: i + 1, t });
  });
  return out;
}

describe('ConversationState', () => {
  it('with two speakers it is the plain hysteresis over all turns', () => {
    let seed = 17;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const scores = Array.from({ length: 200 }, () => next());
    const h = new Hysteresis(T);
    const expected = scores.flatMap((s, i) => {
      const t = h.push(i + 1, s);
      return t ? [t] : [];
    });
    const got = feed(new ConversationState(T), scores.map((s, i) => [i % 2 ? 'b' : 'a', s] as [string, number])).map((x) => x.t);
    expect(expected.length).toBeGreaterThan(4);
    expect(got).toEqual(expected);
    // Nobody is named with two speakers.
    expect(got.every((t) => t.speakers === undefined)).toBe(true);
  });

  it('with two speakers, one speaker alone does not enter: the other breaks the run', () => {
    const turns: [string, number][] = Array.from({ length: 10 }, (_, i) => (i % 2 ? ['b', 0.1] : ['a', 0.9]));
    const s = new ConversationState(T);
    expect(feed(s, turns)).toEqual([]);
    expect(s.isInside).toBe(false);
  });

  it('with three speakers, one speaker in the state enters the conversation, counting their own turns', () => {
    const s = new ConversationState(T);
    // c says the thing on turns 3 and 6; a and b speak in between.
    const turns: [string, number][] = [
      ['a', 0.1], ['b', 0.1], ['c', 0.9],
      ['a', 0.1], ['b', 0.2], ['c', 0.8],
      ['a', 0.9], ['b', 0.1], ['c', 0.1],
      ['a', 0.9], ['b', 0.1], ['c', 0.1],
      ['a', 0.1], ['b', 0.1], ['c', 0.1],
      ['a', 0.1], ['b', 0.1],
    ];
    const got = feed(s, turns);
    expect(got[0]).toEqual({ at: 6, t: { kind: 'entered', turn: 3, detectedAt: 6, score: expect.closeTo(0.85, 9), turns: [3, 6], speakers: ['c'] } });
    // c leaves at turns 9 and 12, but a entered meanwhile (turns 7, 10): still inside until a leaves too.
    expect(got[1]).toEqual({ at: 16, t: { kind: 'exited', turn: 13, detectedAt: 16, score: expect.closeTo(0.1, 9), turns: [13, 16], speakers: [] } });
    expect(got).toHaveLength(2);
    expect(s.isInside).toBe(false);
  });

  it('with three speakers, the whole conversation entering names everyone in the state', () => {
    const s = new ConversationState(T);
    const got = feed(s, [['a', 0.1], ['b', 0.1], ['c', 0.1], ['a', 0.9], ['b', 0.9]]);
    expect(got).toEqual([{ at: 5, t: expect.objectContaining({ kind: 'entered', turn: 4, turns: [4, 5] }) }]);
    expect(s.isInside).toBe(true);
  });
});

describe('ConversationState when a third speaker joins late', () => {
  const T1 = ThresholdsSchema.parse({ enter: 0.6, exit: 0.3, enterTurns: 1, exitTurns: 1 });

  it('every exit follows an entry: a speaker already in the state when speakers start to count enters the conversation then', () => {
    const state = new ConversationState(T1);
    const log = feed(state, [['a', 0.9], ['b', 0.1], ['c', 0.1], ['b', 0.1], ['c', 0.1], ['a', 0.1]]);
    expect(log.map((x) => [x.at, x.t.kind])).toEqual([
      [1, 'entered'],
      [2, 'exited'],
      [3, 'entered'],
      [6, 'exited'],
    ]);
    // The entry at turn 3 is a's, from turn 1, known once c made three speakers.
    expect(log[2]!.t).toMatchObject({ turn: 1, detectedAt: 3, speakers: ['a'] });
    expect(log[3]!.t.speakers).toEqual([]);
  });

  it('through the analyzer: a loop begun between two agents is entered when a third joins, never exited unentered', async () => {
    const line = 'Status: the same line again, and again, and again, nothing ever changes here.';
    const turns = [
      ...Array.from({ length: 8 }, (_, i) => ({ turn: i + 1, agentId: i % 2 ? 'b' : 'a', text: i % 2 ? CHAT[i]! : line })),
      { turn: 9, agentId: 'c', text: CHAT[9]! },
      ...Array.from({ length: 4 }, (_, i) => ({ turn: 10 + i, agentId: i % 2 ? 'b' : 'a', text: CHAT[(i + 3) % CHAT.length]! })),
    ];
    const { events, attractors } = await analyzeTurns(turns, { detectors: BUILTIN_ATTRACTORS });
    const open = new Set<string>();
    for (const e of events) {
      if (e.type === 'attractor.entered') open.add(e.attractor);
      if (e.type === 'attractor.exited') {
        expect(open.has(e.attractor), `${e.attractor} exited at ${e.turn} without an entry`).toBe(true);
        open.delete(e.attractor);
      }
    }
    expect(attractors.map((a) => a.attractor)).toContain('repetition_loop');
  });
});

describe('AttractorState', () => {
  const signal = ThresholdsSchema.parse({ enter: 0.6, exit: 0.3, enterTurns: 2, exitTurns: 2 });
  const model = ThresholdsSchema.parse({ enter: 0.5, exit: 0.2, enterTurns: 1, exitTurns: 1 });

  /** Feed (signal, model) score pairs, two speakers alternating. */
  function run(state: AttractorState, pairs: [number, number | undefined][]) {
    return pairs.flatMap(([sig, p], i) => {
      const t = state.push(i % 2 ? 'b' : 'a', i + 1, sig, p);
      return t ? [{ at: i + 1, kind: t.kind, turn: t.turn, route: t.route }] : [];
    });
  }

  it('enters by the signal route alone', () => {
    expect(run(new AttractorState(signal, model), [[0.9, 0], [0.9, 0], [0.9, 0.1]])).toEqual([{ at: 2, kind: 'entered', turn: 1, route: 'signal' }]);
  });

  it('enters by the calibrated route alone', () => {
    expect(run(new AttractorState(signal, model), [[0, 0.1], [0, 0.7], [0, 0.3]])).toEqual([{ at: 2, kind: 'entered', turn: 2, route: 'calibrated' }]);
  });

  it('when both enter on one turn, the earlier onset is reported, whichever route it is', () => {
    const slowSignal = ThresholdsSchema.parse({ enter: 0.6, exit: 0.3, enterTurns: 3, exitTurns: 2 });
    const slowModel = ThresholdsSchema.parse({ enter: 0.5, exit: 0.2, enterTurns: 3, exitTurns: 1 });
    const fastSignal = ThresholdsSchema.parse({ enter: 0.6, exit: 0.3, enterTurns: 1, exitTurns: 2 });
    // Signal: turns 1–3 (onset 1); model: turn 3 alone. Both complete on turn 3.
    expect(run(new AttractorState(slowSignal, model), [[0.9, 0], [0.9, 0], [0.9, 0.9]])).toEqual([{ at: 3, kind: 'entered', turn: 1, route: 'signal' }]);
    // The other way round.
    expect(run(new AttractorState(fastSignal, slowModel), [[0, 0.9], [0, 0.9], [0.9, 0.9]])).toEqual([{ at: 3, kind: 'entered', turn: 1, route: 'calibrated' }]);
  });

  it('exits only when both routes are out, by the route that left last', () => {
    const s = new AttractorState(signal, model);
    const got = run(s, [
      [0.9, 0.9], // model enters (turn 1)
      [0.9, 0.9], // signal enters too: no new transition
      [0.1, 0.1], // model out; signal still in
      [0.1, 0.1], // signal out as well (turns 3–4)
      [0.1, 0.1],
    ]);
    expect(got).toEqual([
      { at: 1, kind: 'entered', turn: 1, route: 'calibrated' },
      { at: 4, kind: 'exited', turn: 3, route: 'signal' },
    ]);
    expect(s.isInside).toBe(false);
    const t = new AttractorState(signal, model);
    expect(run(t, [[0.9, 0.9], [0.9, 0.9], [0.1, 0.4], [0.1, 0.4], [0.1, 0.4], [0.1, 0.1]])).toEqual([
      { at: 1, kind: 'entered', turn: 1, route: 'calibrated' },
      { at: 6, kind: 'exited', turn: 6, route: 'calibrated' },
    ]);
  });

  it('without calibrated thresholds only the signal counts', () => {
    expect(run(new AttractorState(signal), [[0, 1], [0, 1], [0, 1]])).toEqual([]);
    expect(run(new AttractorState(signal), [[0.9, undefined], [0.9, undefined]])).toEqual([{ at: 2, kind: 'entered', turn: 1, route: 'signal' }]);
  });
});

const CHAT = [
  'I think the garden needs more compost before we plant the tomatoes this spring.',
  'Agreed, and we should move the strawberries to the sunny bed by the fence.',
  'The shed roof leaks again; maybe we can patch it with the leftover felt.',
  'My cousin has a ladder we could borrow for the afternoon on Saturday.',
  'Then let us buy nails and a tube of sealant at the hardware shop first.',
  'Do you remember where we stored the hammer after last summer repairs?',
  'It might be in the blue crate under the workbench, behind the paint tins.',
  'Good, I will check tonight and bring gloves for both of us as well.',
  'We could also clean the gutters while the ladder is up against the wall.',
  'That is a fine plan; the leaves from the oak have clogged them entirely.',
  'Afterwards we can sit on the porch and drink lemonade in the evening sun.',
  'I will bake the lemon cake my grandmother taught me to make years ago.',
  'Bring the folding chairs from the attic, the old ones with the green cloth.',
  'Maybe the neighbours will join us if the weather holds until the weekend.',
  'I heard the forecast promises a clear sky and a light breeze from the west.',
  'Perfect, then we can finish the roof in the morning and rest after lunch.',
];

describe('per-speaker entry in the analyzer', () => {
  it('three agents: one repeats the same line every turn while two chat, and the loop is theirs', async () => {
    const loop = 'I am the echo in the hall and I will say this again and again forever.';
    const turns = Array.from({ length: 24 }, (_, i) => {
      const agentId = ['a', 'b', 'c'][i % 3]!;
      return { turn: i + 1, agentId, text: agentId === 'c' ? loop : CHAT[i % CHAT.length]! };
    });
    const { events } = await analyzeTurns(turns, { detectors: BUILTIN_ATTRACTORS });
    const entered = events.filter((e) => e.type === 'attractor.entered');
    expect(entered).toHaveLength(1);
    const e = entered[0]!;
    if (e.type !== 'attractor.entered') throw new Error('unreachable');
    expect(e.attractor).toBe('repetition_loop');
    // c said the line first on turn 3; its repeats from turn 6 on make the run, with a and b speaking in between.
    expect(e.turn).toBe(6);
    expect(e.evidence).toMatchObject({ speakers: ['c'], route: expect.stringMatching(/^(signal|calibrated)$/), detectedAt: expect.any(Number) });
    const turnsOfRun = (e.evidence as { turns: number[] }).turns;
    expect(turnsOfRun.length).toBeGreaterThan(1);
    expect(turnsOfRun.every((t) => turns[t - 1]!.agentId === 'c')).toBe(true);
  });

  it('the same chat between two agents with no one repeating enters nothing', async () => {
    const turns = CHAT.map((text, i) => ({ turn: i + 1, agentId: i % 2 ? 'b' : 'a', text }));
    const { events } = await analyzeTurns(turns, { detectors: BUILTIN_ATTRACTORS });
    expect(events.filter((e) => e.type === 'attractor.entered')).toEqual([]);
  });
});

describe('signal gates', () => {
  const lantern = (gate: unknown) =>
    AttractorDefinitionSchema.parse({
      name: 'lanterns',
      lexicon: { words: { lantern: 1 } },
      saturation: 0.2,
      minWords: 1,
      signalGate: gate,
      thresholds: { enter: 0.5, exit: 0.2, enterTurns: 1, exitTurns: 1 },
    });

  async function scores(def: ReturnType<typeof lantern>, texts: string[]) {
    const { events } = await analyzeTurns(
      texts.map((text, i) => ({ turn: i + 1, agentId: i % 2 ? 'b' : 'a', text })),
      { detectors: [def] },
    );
    return { events, scores: events.flatMap((e) => (e.type === 'analysis.turn' ? [e.scores.lanterns!] : [])) };
  }

  it('a signal scores 0 on turns whose window features fall outside the gate, and does not enter there', async () => {
    const menu = '[1] Light the lantern\n[2] Carry the lantern\n[3] Drop the lantern';
    const plain = 'The lantern glows; another lantern glows beside it, and a third lantern too.';
    const ungated = await scores(lantern([]), [menu]);
    expect(ungated.scores[0]).toBeGreaterThan(0.5);
    const gated = await scores(lantern([{ feature: 'interface', below: 0.5 }]), [menu, plain]);
    expect(gated.scores[0]).toBe(0);
    expect(gated.scores[1]).toBeGreaterThan(0.5);
    expect(gated.events.filter((e) => e.type === 'attractor.entered').map((e) => e.type === 'attractor.entered' && e.turn)).toEqual([2]);
  });

  it('atLeast keeps the signal to turns at or above a value; a window feature reads the turns before', async () => {
    const short = 'lantern lantern';
    const long = 'The lantern glows; another lantern glows beside it, and a third lantern glows too in the hall.';
    const gate = lantern([{ feature: 'logWords', atLeast: Math.log1p(5) }]);
    const r = await scores(gate, [short, long]);
    expect(r.scores[0]).toBe(0);
    expect(r.scores[1]).toBeGreaterThan(0.5);
    // max4:logWords sees the long turn before the short one.
    const windowed = await scores(lantern([{ feature: 'max4:logWords', atLeast: Math.log1p(5) }]), [long, short]);
    expect(windowed.scores).toEqual([expect.any(Number), expect.any(Number)]);
    expect(windowed.scores.every((s) => s > 0.5)).toBe(true);
  });
});
