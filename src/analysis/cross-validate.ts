import { predict } from './detector-model.js';
import { decide, fitDetector, type FitOptions, type LabelledConversation } from './fit.js';

export interface FoldOutcome {
  id: string;
  present: boolean;
  /** Onset the held-out detector reported, or null. */
  detected: number | null;
  labelledOnset: number | null;
}

/**
 * k-fold cross-validation of one attractor's detector, grouped: every conversation of a group (a template
 * and model pair) is held out together, so a fold never tests on the siblings of what it was fitted on.
 * Groups are dealt to folds largest first, each to the fold with the fewest positives then conversations,
 * so positives spread over the folds. With fewer groups than folds (a researcher's runs of one scenario and
 * model pair), grouping is impossible and each conversation is its own group (see `groupedFolds`). `alwaysTrain` conversations (another set, such as the project's own
 * written examples) join every fold's training and are never tested. Returns each conversation's held-out decision.
 */
export function crossValidate(convs: readonly LabelledConversation[], features: readonly string[], k: number, options: FitOptions = {}, alwaysTrain: readonly LabelledConversation[] = []): FoldOutcome[] {
  const grouped = groupedFolds(convs, k);
  const groups = new Map<string, LabelledConversation[]>();
  convs.forEach((c, i) => {
    const key = grouped ? c.group : `${i}:${c.id}`;
    const list = groups.get(key);
    if (list) list.push(c);
    else groups.set(key, [c]);
  });
  const folds = Array.from({ length: k }, () => ({ members: [] as LabelledConversation[], positives: 0 }));
  const ordered = [...groups.entries()].sort((a, b) => positives(b[1]) - positives(a[1]) || b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  for (const [, members] of ordered) {
    const p = positives(members);
    const fold = folds.reduce((best, f) => (p > 0 ? (f.positives < best.positives || (f.positives === best.positives && f.members.length < best.members.length) ? f : best) : f.members.length < best.members.length ? f : best));
    fold.members.push(...members);
    fold.positives += p;
  }
  const out: FoldOutcome[] = [];
  for (const fold of folds) {
    if (fold.members.length === 0) continue;
    const held = new Set(fold.members);
    const training = [...convs.filter((c) => !held.has(c)), ...alwaysTrain];
    const fitted = fitDetector(training, features, options);
    for (const c of fold.members) {
      const detected = decide(fitted.thresholds, c, c.rows.map((r) => predict(fitted.model, r)));
      out.push({ id: c.id, present: c.present, detected, labelledOnset: c.onset });
    }
  }
  return out;
}

/** Whether the conversations fall into at least k groups, so folds can keep groups whole. */
export function groupedFolds(convs: readonly Pick<LabelledConversation, 'group'>[], k: number): boolean {
  return new Set(convs.map((c) => c.group)).size >= k;
}

function positives(list: readonly LabelledConversation[]): number {
  return list.reduce((n, c) => n + (c.present ? 1 : 0), 0);
}
