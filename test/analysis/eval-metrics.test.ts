import { describe, expect, it } from 'vitest';
import type { AttractorEpisode } from '../../src/analysis/analyze-run.js';
import type { AttractorLabel, LabelRecord } from '../../src/analysis/eval/labels.js';
import { confusion, endStateOf, median, scoreAttractor, truncate, type ScoredRun } from '../../src/analysis/eval/metrics.js';
import { summarizeRun, type RunOutcome } from '../../src/analysis/eval/outcome.js';
import type { ArenaEvent } from '../../src/runlog/events.js';

const A = 'repetition_loop';

function outcome(runId: string, episodes: AttractorEpisode[], turns = 20, scored: string[] = [A, 'silence']): RunOutcome {
  const entries = new Map(episodes.map((e) => [e.attractor, { turn: e.enteredTurn, score: e.score, evidence: { topTerms: [{ term: 'same', count: 3 }] } }]));
  return { runId, turns, scored: new Set(scored), episodes, entries, peaks: new Map([[A, { turn: 5, score: 0.4, terms: ['again'] }]]) };
}

function scored(ref: string, label: AttractorLabel | undefined, episodes: AttractorEpisode[], extra: Partial<LabelRecord> = {}, turns = 20): ScoredRun {
  return { record: { ref, where: ref, labels: new Map(label ? [[A, label]] : []), ...extra }, outcome: outcome(`id-${ref}`, episodes, turns) };
}

const ep = (enteredTurn: number, exitedTurn: number | null = null, attractor = A): AttractorEpisode => ({ attractor, enteredTurn, exitedTurn, score: 0.8 });
const yes = (onsetTurn: number | null): AttractorLabel => ({ present: true, onsetTurn });
const no: AttractorLabel = { present: false, onsetTurn: null };

describe('eval metrics', () => {
  it('counts tp/fp/fn/tn at conversation level, with Wilson intervals computed by hand', () => {
    const runs = [
      scored('tp1', yes(4), [ep(5)]),
      scored('tp2', yes(10), [ep(14, 16), ep(18)]),
      scored('fp', no, [ep(3)]),
      scored('fn', yes(6), [], { notes: 'x'.repeat(300) }),
      scored('tn', no, []),
      scored('unlabelled', undefined, [ep(2)]),
    ];
    const s = scoreAttractor(A, runs);
    expect([s.n, s.tp, s.fp, s.fn, s.tn]).toEqual([5, 2, 1, 1, 1]);
    expect(s.precision).toBe(0.6667);
    expect(s.recall).toBe(0.6667);
    expect(s.f1).toBe(0.6667);
    // Wilson, z = 1.96: p = 2/3, n = 3; centre (p + z²/6)/(1 + z²/3) = 0.5731, half-width 0.3654.
    expect(s.ci95.precision).toEqual([0.2077, 0.9385]);
    expect(s.ci95.recall).toEqual([0.2077, 0.9385]);
    // Detected onset is the first episode's: errors +1 and +4.
    expect(s.onset).toEqual({ median: 2.5, within3: 0.5, n: 2, medianSigned: 2.5 });
    expect(s.falseAlarms).toEqual([{ run: 'id-fp', label: 'fp', turn: 3, score: 0.8, terms: ['same'], evidence: { topTerms: [{ term: 'same', count: 3 }] }, note: null }]);
    expect(s.misses).toHaveLength(1);
    expect(s.misses[0]).toMatchObject({ run: 'id-fn', label: 'fn', labelledOnset: 6, peak: { turn: 5, score: 0.4, terms: ['again'] } });
    expect(s.misses[0]!.note).toHaveLength(160);
    expect(s.misses[0]!.note!.endsWith('…')).toBe(true);
  });

  it('zero denominators give null ratios and a [0, 1] interval; no positives found gives F1 0', () => {
    const none = scoreAttractor(A, [scored('tn', no, [])]);
    expect([none.precision, none.recall, none.f1]).toEqual([null, null, null]);
    expect(none.ci95).toEqual({ precision: [0, 1], recall: [0, 1] });
    expect(none.onset).toEqual({ median: null, within3: null, n: 0, medianSigned: null });
    const missed = scoreAttractor(A, [scored('fn', yes(3), []), scored('fn2', yes(null), [])]);
    expect([missed.precision, missed.recall, missed.f1]).toEqual([null, 0, 0]);
    expect(missed.ci95.recall).toEqual([0, 0.6576]);
  });

  it('runs whose analysis never looked for the attractor are left out and counted', () => {
    const run = scored('x', yes(2), []);
    const blind: ScoredRun = { ...run, outcome: { ...run.outcome, scored: new Set(['silence']) } };
    const s = scoreAttractor(A, [blind, scored('y', yes(2), [ep(2)])]);
    expect([s.n, s.tp, s.fn, s.notAnalysed]).toEqual([1, 1, 0, 1]);
  });

  it('median of an even count is the mean of the middle two; notes are flattened and cut', () => {
    expect(median([5, -1, 3, 1])).toBe(2);
    expect(median([])).toBeNull();
    expect(truncate('a\n  b')).toBe('a b');
    expect(truncate(undefined)).toBeNull();
  });

  it("the detector's end state is the attractor covering most of the last 20% of turns", () => {
    const o = (episodes: AttractorEpisode[], turns = 20) => outcome('r', episodes, turns);
    expect(endStateOf(o([]), [A, 'silence'])).toBe('none');
    // Last 4 of 20 turns are 17-20: the loop left at 17 (covers 0), silence from 18 covers 3.
    expect(endStateOf(o([ep(2, 17), ep(18, null, 'silence')]), [A, 'silence'])).toBe('silence');
    expect(endStateOf(o([ep(2, 19), ep(19, null, 'silence')]), [A, 'silence'])).toBe(A);
    expect(endStateOf(o([ep(2, 10)]), [A])).toBe('none');
    // 7 turns: the window is ceil(1.4) = 2 turns, 6-7.
    expect(endStateOf(o([ep(6)], 7), [A])).toBe(A);
    expect(endStateOf(o([ep(1, 6)], 7), [A])).toBe('none');
  });

  it('the confusion table counts labelled end states against detected ones', () => {
    const runs = [
      scored('a', no, [ep(15)], { endState: A }),
      scored('b', no, [], { endState: A }),
      scored('c', no, [], { endState: 'story_or_roleplay' }),
      scored('d', no, [ep(18, null, 'silence')], { endState: 'story_or_roleplay' }),
      scored('e', no, [ep(1)]),
    ];
    const c = confusion(runs, [A, 'silence']);
    expect(c.columns).toEqual(['none', A, 'silence']);
    expect(c.rows).toEqual([
      { endState: A, n: 2, counts: { none: 1, [A]: 1, silence: 0 } },
      { endState: 'story_or_roleplay', n: 2, counts: { none: 1, [A]: 0, silence: 1 } },
    ]);
    expect(c.agreement).toEqual({ count: 2, n: 4, share: 0.5 });
  });

  it('a run summary keeps the first entry, and the peak score per attractor with that turn\'s terms', () => {
    const base = { v: 1 as const, ts: '2026-01-01T00:00:00.000Z', runId: 'r' };
    const events: ArenaEvent[] = [
      { ...base, seq: 1, type: 'turn.completed', turn: 1, agentId: 'a', text: 'x', finishReason: 'stop', usage: { inputTokens: 0, outputTokens: 0 }, costUsd: 0, latencyMs: 0, attempts: 1 },
      { ...base, seq: 2, type: 'analysis.turn', turn: 1, features: { terms: { spiritual_bliss: ['love'] } }, scores: { spiritual_bliss: 0.3 } },
      { ...base, seq: 3, type: 'turn.completed', turn: 2, agentId: 'b', text: 'y', finishReason: 'stop', usage: { inputTokens: 0, outputTokens: 0 }, costUsd: 0, latencyMs: 0, attempts: 1 },
      { ...base, seq: 4, type: 'analysis.turn', turn: 2, features: { terms: { spiritual_bliss: [{ term: 'grace', count: 2 }, 'sacred'] } }, scores: { spiritual_bliss: 0.5 } },
      { ...base, seq: 5, type: 'attractor.entered', attractor: 'spiritual_bliss', turn: 2, score: 0.5, evidence: { why: 1 } },
      { ...base, seq: 6, type: 'attractor.entered', attractor: 'spiritual_bliss', turn: 9, score: 0.9, evidence: {} },
    ];
    const s = summarizeRun('r', events, { analysis: events.slice(1), episodes: [], scored: new Set(['spiritual_bliss']) });
    expect(s.turns).toBe(2);
    expect(s.entries.get('spiritual_bliss')).toEqual({ turn: 2, score: 0.5, evidence: { why: 1 } });
    expect(s.peaks.get('spiritual_bliss')).toEqual({ turn: 2, score: 0.5, terms: ['grace', 'sacred'] });
  });
});
