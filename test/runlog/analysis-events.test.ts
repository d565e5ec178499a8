import { describe, expect, it } from 'vitest';
import { ConversationAnalyzer } from '../../src/analysis/analyzer.js';
import { BUILTIN_ATTRACTORS } from '../../src/analysis/builtin.js';
import { AnalysisFeaturesSchema, ArenaEventSchema, AttractorEvidenceSchema, type ArenaEvent, type EventBody } from '../../src/runlog/events.js';
import { parseRunLog } from '../../src/runlog/reader.js';
import { driftConversation } from '../../bench/eval/drift.mjs';
import { stamp } from './_events.js';

/** A unit vector from a seed: stands in for an embedding, so the embedding features are written too. */
function vector(seed: number): Float32Array {
  const v = new Float32Array(16);
  let x = seed * 2654435761;
  for (let i = 0; i < v.length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    v[i] = x / 2147483648 - 0.5;
  }
  return v;
}

/** What the analyzer writes for a few conversations (bliss, a loop, silence), with and without embeddings. */
function analyzerEvents(): EventBody[] {
  const bodies: EventBody[] = [];
  const centroids = new Map(BUILTIN_ATTRACTORS.map((a, i) => [a.name, vector(100 + i)]));
  for (const [k, c] of [
    driftConversation({ seed: 1, attractor: 'spiritual_bliss' }),
    driftConversation({ seed: 11, attractor: 'repetition_loop' }),
    driftConversation({ seed: 1, attractor: 'silence' }),
  ].entries()) {
    const analyzer = new ConversationAnalyzer({ attractors: BUILTIN_ATTRACTORS, centroids, embedder: 'test:vectors' });
    for (const t of c.turns) {
      const step = analyzer.text(t);
      // One conversation embeds every turn, one records an embedding failure now and then, one has none.
      const analysis = k === 0 ? analyzer.complete(step, vector(t.turn)) : k === 1 && t.turn % 5 === 0 ? analyzer.complete(step, null, 'embedder unreachable') : analyzer.complete(step, null);
      bodies.push(...analysis.events);
    }
  }
  return bodies;
}

function roundTrip(events: readonly ArenaEvent[]): ArenaEvent[] {
  return parseRunLog(events.map((e) => JSON.stringify(e)).join('\n') + '\n', 'events.jsonl').events;
}

describe('analysis features and attractor evidence in the run log', () => {
  it('declares every key the analyzer writes, and reads its events back unchanged', () => {
    const bodies = analyzerEvents();
    const featureKeys = new Set<string>();
    const evidenceKeys = new Set<string>();
    for (const b of bodies) {
      if (b.type === 'analysis.turn') for (const k of Object.keys(b.features)) featureKeys.add(k);
      if (b.type === 'attractor.entered' || b.type === 'attractor.exited') for (const k of Object.keys(b.evidence)) evidenceKeys.add(k);
    }
    // The conversations reach the keys that depend on embeddings and on calibrated models.
    for (const k of ['drift', 'convergence', 'similarity', 'embeddingError', 'signals', 'terms']) expect(featureKeys).toContain(k);
    for (const k of ['detectedAt', 'turns', 'scores', 'route', 'drivers', 'topTerms', 'similarity']) expect(evidenceKeys).toContain(k);
    expect([...featureKeys].filter((k) => !(k in AnalysisFeaturesSchema.shape))).toEqual([]);
    expect([...evidenceKeys].filter((k) => !(k in AttractorEvidenceSchema.shape))).toEqual([]);

    const events = stamp(bodies);
    const log = parseRunLog(events.map((e) => JSON.stringify(e)).join('\n') + '\n', 'events.jsonl');
    expect(log.problems).toEqual([]);
    expect(log.events).toEqual(JSON.parse(JSON.stringify(events)));
  });

  it('keeps keys it does not know: a detector of their own or a later version may write more', () => {
    const events = stamp([
      { type: 'analysis.turn', turn: 1, features: { words: 12, hedging: 0.4, myDetector: { window: [1, 2], notes: 'x' } }, scores: { mine: 0.2 } },
      { type: 'attractor.entered', attractor: 'mine', turn: 1, score: 0.9, evidence: { detectedAt: 1, phrases: ['as an AI'], topTerms: [{ term: 'ai', count: 2, weight: 1.5 }] } },
      { type: 'attractor.entered', attractor: 'calibrated', turn: 1, score: 0.9, evidence: { drivers: [{ feature: 'w4:echo', value: 0.5, contribution: 1.2, note: 'strong' }] } },
    ] as EventBody[]);
    expect(roundTrip(events)).toEqual(events);
  });

  it('reads what earlier versions and other tools wrote: no features, no evidence, terms as words or as {term, count}', () => {
    const events = stamp([
      { type: 'analysis.turn', turn: 1, features: {}, scores: {} },
      { type: 'analysis.turn', turn: 2, features: { terms: { spiritual_bliss: [{ term: 'grace', count: 2 }, 'sacred'] }, convergence: null }, scores: { spiritual_bliss: 0.5 } },
      { type: 'attractor.entered', attractor: 'spiritual_bliss', turn: 2, score: 0.5, evidence: { topTerms: ['grace'] } },
      { type: 'attractor.exited', attractor: 'spiritual_bliss', turn: 3, score: 0.1, evidence: {} },
    ] as EventBody[]);
    expect(roundTrip(events)).toEqual(events);
    const [withoutEvidence] = stamp([{ type: 'attractor.exited', attractor: 'x', turn: 1, score: 0 } as unknown as EventBody]);
    expect(roundTrip([withoutEvidence!])).toEqual([{ ...withoutEvidence, evidence: {} }]);
  });

  it('reports a known key of the wrong type as a problem on its line, naming the key', () => {
    const good = stamp([{ type: 'analysis.turn', turn: 1, features: { words: 3 }, scores: {} }]);
    const lines = [
      JSON.stringify(good[0]),
      JSON.stringify({ ...good[0], seq: 2, turn: 2, features: { words: 'many' } }),
      JSON.stringify({ v: 1, seq: 3, ts: good[0]!.ts, runId: 'r1', type: 'attractor.entered', attractor: 'a', turn: 2, score: 1, evidence: { turns: 'two' } }),
    ];
    const log = parseRunLog(lines.join('\n') + '\n', 'x.jsonl');
    expect(log.events).toEqual(good);
    expect(log.problems.map((p) => p.line)).toEqual([2, 3]);
    expect(log.problems[0]!.problem).toMatch(/^features\.words: /);
    expect(log.problems[1]!.problem).toMatch(/^evidence\.turns: /);
    expect(ArenaEventSchema.safeParse(JSON.parse(lines[1]!)).success).toBe(false);
  });
});
