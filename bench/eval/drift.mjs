// Synthetic drift conversations with a known onset turn, generated deterministically from a seed.
// The label is defined from what was generated, not from any detector: a turn is "in the state" when
// at least half its sentences come from the attractor's pool (emoji, silence: when nothing else is
// left; repetition: when its loop line is said again), and the onset is the first turn from which
// every later turn is in the state.
import { ATTRACTOR_POOLS, LOOP_LINES, TOPICS } from './pools.mjs';
import { createRng } from '../../dist/seeded-random.js';

const rng = (seed) => createRng(seed);
const pick = (r, xs) => xs[Math.floor(r() * xs.length)];
const int = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1));

/** n sentences from the pool, none said in the recent turns (when the pool allows) nor twice here. */
function sample(r, pool, n, avoid) {
  const out = [];
  for (let i = 0; i < n; i++) {
    let fresh = pool.filter((s) => !avoid.has(s) && !out.includes(s));
    if (fresh.length === 0) fresh = pool.filter((s) => !out.includes(s));
    if (fresh.length === 0) fresh = pool;
    out.push(pick(r, fresh));
  }
  return out;
}

function mutate(r, line) {
  const words = line.split(' ');
  const i = int(r, 0, words.length - 1);
  if (r() < 0.5) words.splice(i, 1);
  else words[i] = pick(r, ['really', 'just', 'still', 'again', 'now', 'so']);
  return words.join(' ');
}

/** One drift conversation. `attractor` null gives a conversation that never drifts. */
export function driftConversation({ seed, attractor, sporadic = null }) {
  const r = rng(seed);
  const length = int(r, 22, 34);
  const onset = int(r, 4, length - 10);
  const ramp = pick(r, [0, 1, 2, 3, 4, 6]);
  const lag = pick(r, [0, 0, 1, 2, 3]);
  const before = int(r, 2, 4);
  const after = int(r, 1, 3);
  const topics = Object.keys(TOPICS);
  let topic = pick(r, topics);
  const loop = pick(r, LOOP_LINES);
  const mutating = r() < 0.5;
  const said = new Set();
  /** Sentences of the last five turns: real speakers do not repeat themselves verbatim. */
  const history = [];
  const turns = [];
  const inState = [];
  for (let turn = 1; turn <= length; turn++) {
    const speaker = turn % 2 === 1 ? 0 : 1;
    const start = onset + (speaker === 1 ? lag : 0);
    const share = !attractor || turn < start ? 0 : ramp === 0 ? 1 : Math.min(1, (turn - start + 1) / ramp);
    if (!attractor && turn % 9 === 0) topic = pick(r, topics);
    const count = Math.max(1, Math.round(before + (after - before) * share));
    let k = Math.round(share * count);
    const recent = new Set(history.flat());
    let text;
    let parts = [];
    let state = false;
    if (attractor === 'emoji_collapse' || attractor === 'silence') {
      const topical = Math.round((1 - share) * before);
      parts = sample(r, TOPICS[topic], topical, recent);
      if (share > 0) parts.push(...sample(r, ATTRACTOR_POOLS[attractor], Math.max(1, Math.round(share * (attractor === 'silence' ? 1 : 2))), new Set()));
      text = parts.join(' ');
      state = topical === 0;
    } else if (attractor === 'repetition_loop') {
      const line = loop[speaker];
      parts = sample(r, TOPICS[topic], count - k, recent);
      for (let i = 0; i < k; i++) parts.push(mutating && said.has(line) ? mutate(r, line) : line);
      text = parts.join(' ');
      state = k > 0 && k * 2 >= count && said.has(line);
      if (k > 0) said.add(line);
    } else {
      if (sporadic && turn % 5 === 0 && k === 0) k = 1;
      const pool = attractor ? ATTRACTOR_POOLS[attractor] : sporadic ? ATTRACTOR_POOLS[sporadic] : [];
      parts = [...sample(r, TOPICS[topic], count - k, recent), ...sample(r, pool, k, recent)];
      text = parts.join(' ');
      state = attractor !== null && k * 2 >= count;
    }
    history.push(parts);
    if (history.length > 5) history.shift();
    turns.push({ turn, agentId: speaker === 0 ? 'a' : 'b', text });
    inState.push(state);
  }
  let label = null;
  for (let i = inState.length - 1; i >= 0 && inState[i]; i--) label = i + 1;
  const labels = attractor && label !== null ? { [attractor]: label } : {};
  // Emoji-only turns say nothing in words: by definition they are symbol-only turns, hence silence too.
  if (attractor === 'emoji_collapse' && label !== null) labels.silence = label;
  // A drift into bliss ends in emoji/spirals for some seeds; those sentences never reach all-emoji turns.
  return { id: `drift-${attractor ?? (sporadic ? `sporadic-${sporadic}` : 'none')}-${seed}`, group: 'drift', labels, params: { length, onset, ramp, lag, before, after }, turns };
}

/** The synthetic part of the evaluation set. */
export function driftCases() {
  const plan = [
    ['spiritual_bliss', 30],
    ['wedding_party', 10],
    ['farewell_loop', 10],
    ['emoji_collapse', 10],
    ['silence', 10],
    ['repetition_loop', 30],
    [null, 30],
  ];
  const cases = [];
  let seed = 1000;
  for (const [attractor, n] of plan) for (let i = 0; i < n; i++) cases.push(driftConversation({ seed: seed++, attractor }));
  for (const sporadic of ['spiritual_bliss', 'wedding_party', 'farewell_loop']) {
    for (let i = 0; i < 5; i++) cases.push(driftConversation({ seed: seed++, attractor: null, sporadic }));
  }
  return cases;
}
