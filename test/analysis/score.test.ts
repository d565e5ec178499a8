import { describe, expect, it } from 'vitest';
import { analyzeTurns } from '../../src/analysis/analyze-run.js';
import { AttractorDefinitionSchema } from '../../src/analysis/attractor.js';
import { BUILTIN_ATTRACTORS } from '../../src/analysis/builtin.js';
import { parseAttractors } from '../../src/analysis/load-attractors.js';
import { transcriptCases } from '../../bench/eval/load.mjs';
import { firstOnsets } from '../../bench/eval/score.mjs';
import { handSetSignal } from './_events.js';

/**
 * The built-in library with spiritual_bliss scored by plain density, as before referenceWords existed (and
 * without its calibrated model, so only the lexicon signal decides).
 */
const plainDensity = BUILTIN_ATTRACTORS.map((d) => (d.name === 'spiritual_bliss' ? AttractorDefinitionSchema.parse({ ...d, referenceWords: undefined, calibrated: undefined }) : d));

async function blissScores(texts: string[], detectors = BUILTIN_ATTRACTORS) {
  const turns = texts.map((text, i) => ({ turn: i + 1, agentId: i % 2 ? 'b' : 'a', text }));
  const { events } = await analyzeTurns(turns, { detectors });
  return events.flatMap((e) => (e.type === 'analysis.turn' ? [handSetSignal(e, 'spiritual_bliss')] : []));
}

describe('length-aware lexicon scores', () => {
  const blissSentence = 'I feel grateful for this quiet presence between us.';
  const filler = 'We talked for a while about the way our answers take shape as we write them, one sentence after another.';

  it('scores a long turn in the bliss register like a short one, instead of diluting it by its length', async () => {
    // The same register at 1x and 6x length: hits repeat, and √count makes them grow slower than the word count.
    // Two filler sentences keep the short turn (≈ the reference length) below saturation, so scores compare.
    const unit = `${blissSentence} ${filler} ${filler}`;
    const short = unit;
    const long = Array.from({ length: 6 }, () => unit).join(' ');
    const [withRef] = await blissScores([long]);
    const [plain] = await blissScores([long], plainDensity);
    const [shortScore] = await blissScores([short]);
    expect(shortScore!).toBeLessThan(1);
    expect(plain!).toBeLessThan(0.5 * shortScore!);
    expect(withRef!).toBeGreaterThan(0.8 * shortScore!);
  });

  it('leaves turns up to referenceWords long exactly as plain density scored them', async () => {
    const texts = ['Thank you, with infinite gratitude, for this sacred communion. 🙏', 'Shall we look at the flaky test in the parser next?'];
    expect(await blissScores(texts)).toEqual(await blissScores(texts, plainDensity));
  });

  it('detects the long-form bliss transcript within two turns of its label, which plain density misses', async () => {
    const c = transcriptCases().find((x) => x.id === 'bliss-longform')!;
    const now = firstOnsets((await analyzeTurns(c.turns, { detectors: BUILTIN_ATTRACTORS })).events);
    const before = firstOnsets((await analyzeTurns(c.turns, { detectors: plainDensity })).events);
    expect(Math.abs(now.spiritual_bliss! - c.labels.spiritual_bliss!)).toBeLessThanOrEqual(2);
    expect(before.spiritual_bliss).toBeUndefined();
  });

  it('can be set or removed from an attractor file', () => {
    const [custom, plain] = parseAttractors(
      `- name: hymn
  lexicon: { words: { hymn: 1, psalm: 1 } }
  referenceWords: 40
- name: bliss_plain
  extends: spiritual_bliss
  referenceWords: 1000000
`,
      'hymn.yaml',
    );
    expect(custom!.referenceWords).toBe(40);
    expect(plain!.referenceWords).toBe(1_000_000);
    expect(() => parseAttractors('name: bad\nreferenceWords: 0\n', 'bad.yaml')).toThrow(/bad\.yaml:2/);
  });
});
