import type { AnalysisFeatures, ArenaEvent, AttractorEvidence, Term } from '../../runlog/events.js';
import type { AttractorEpisode } from '../analyze-run.js';
import type { Detection } from './detect.js';

/** Where the detector first entered an attractor, with what it recorded as its reason. */
export interface Entry {
  turn: number;
  score: number;
  evidence: AttractorEvidence;
}

/** The turn an attractor scored highest, for explaining a miss. */
export interface Peak {
  turn: number;
  score: number;
  terms: string[];
}

/** All that scoring needs of one run, small enough to keep for every labelled run. */
export interface RunOutcome {
  runId: string;
  /** Completed turns in the log. */
  turns: number;
  scored: ReadonlySet<string>;
  episodes: AttractorEpisode[];
  entries: Map<string, Entry>;
  peaks: Map<string, Peak>;
}

export function summarizeRun(runId: string, events: readonly ArenaEvent[], detection: Detection): RunOutcome {
  let turns = 0;
  for (const e of events) if (e.type === 'turn.completed') turns = Math.max(turns, e.turn);
  const entries = new Map<string, Entry>();
  const peaks = new Map<string, Peak>();
  for (const e of detection.analysis) {
    if (e.type === 'attractor.entered') {
      if (!entries.has(e.attractor)) entries.set(e.attractor, { turn: e.turn, score: e.score, evidence: e.evidence });
    } else if (e.type === 'analysis.turn') {
      for (const [attractor, score] of Object.entries(e.scores)) {
        const held = peaks.get(attractor);
        if (held && held.score >= score) continue;
        peaks.set(attractor, { turn: e.turn, score, terms: termsOf(e.features, attractor) });
      }
    }
  }
  return { runId, turns, scored: detection.scored, episodes: detection.episodes, entries, peaks };
}

/** A matched term as a plain word, whether the analyzer wrote a string or a `{term}` object. */
function word(t: Term): string {
  return typeof t === 'string' ? t : t.term;
}

/** `features.terms[attractor]` as plain words. */
function termsOf(features: AnalysisFeatures, attractor: string): string[] {
  return features.terms?.[attractor]?.map(word) ?? [];
}

/** Terms from an entered event's evidence (`topTerms`), in the same plain form. */
export function evidenceTerms(evidence: AttractorEvidence | null): string[] {
  return evidence?.topTerms?.map(word) ?? [];
}
