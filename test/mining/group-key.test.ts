import { describe, expect, it } from 'vitest';
import { describeGrouping, groupOf, parseGrouping } from '../../src/mining/group-key.js';
import { emptySummary, type RunSummary } from '../../src/mining/run-summary.js';
import type { RunStarted } from '../../src/runlog/events.js';

function run(meta: Record<string, unknown> | undefined, models: [string, string] = ['m1', 'm2'], scenario = 'chat'): RunSummary {
  const started = {
    v: 1, seq: 1, ts: '2026-01-01T00:00:00.000Z', runId: 'r', type: 'run.started',
    scenario: { name: scenario },
    agents: [{ id: 'a', name: 'A', backend: 'scripted', model: models[0] }, { id: 'b', name: 'B', backend: 'scripted', model: models[1] }],
    seed: 1, limits: { maxTurns: 10 },
    ...(meta ? { meta } : {}),
  } as RunStarted;
  return { ...emptySummary('f'), runId: 'r', started };
}

const cell = (extra: Record<string, unknown>) => ({ batchId: 'b', cell: { index: 3, scenario: 'chat', scenarioFile: 'chat.yaml', pairing: ['blissy', 'wedder'], repetition: 2, seed: 42, ...extra } });
const byDefault = parseGrouping(undefined);

describe('default grouping', () => {
  it('puts a batch run in its matrix cell: scenario × pairing × parameters, replicates pooled', () => {
    const a = groupOf(run(cell({ temperature: 0.7 })), byDefault);
    expect(a).toEqual({ key: 'chat · blissy × wedder · T=0.7', factors: { scenario: 'chat', pairing: 'blissy × wedder', temperature: '0.7' } });
    // Another repetition, seed and plan position of the same cell: the same group.
    expect(groupOf(run(cell({ temperature: 0.7, index: 9, repetition: 5, seed: 7, scenarioFile: 'other/chat.yaml' })), byDefault)).toEqual(a);
    // Another temperature: another group, differing in that one factor.
    expect(groupOf(run(cell({ temperature: 1 })), byDefault).factors).toEqual({ ...a.factors, temperature: '1' });
    // A parameter the cell holds that this code does not know yet is a factor too.
    expect(groupOf(run(cell({ topP: 0.9 })), byDefault)).toEqual({ key: 'chat · blissy × wedder · topP=0.9', factors: { scenario: 'chat', pairing: 'blissy × wedder', topP: '0.9' } });
  });

  it("uses the agents' models where the plan has no pairing, and adds a fork's turn and condition", () => {
    const own = groupOf(run(cell({ pairing: null }), ['haiku', 'haiku']), byDefault);
    expect(own).toEqual({ key: 'chat · haiku × haiku', factors: { scenario: 'chat', models: 'haiku × haiku' } });
    const child = groupOf(run(cell({ pairing: null, fork: { parentRunId: 'p', atTurn: 8, condition: 'resample' } }), ['haiku', 'haiku']), byDefault);
    expect(child).toEqual({ key: 'chat · haiku × haiku · fork at 8: resample', factors: { scenario: 'chat', models: 'haiku × haiku', forkTurn: '8', forkCondition: 'resample' } });
  });

  it('groups a run outside a batch by scenario × models, even with a partial meta.cell', () => {
    expect(groupOf(run(undefined, ['opus', 'sonnet'], 'free'), byDefault)).toEqual({ key: 'free · opus × sonnet', factors: { scenario: 'free', models: 'opus × sonnet' } });
    expect(groupOf(run({ cell: { temperature: 1 } }), byDefault).factors).toEqual({ scenario: 'chat', models: 'm1 × m2' });
  });

  it('describes the grouping it used', () => {
    const batch = { factors: { scenario: 'chat', pairing: 'x', temperature: '1' }, batch: true };
    const other = { factors: { scenario: 'free', models: 'm' }, batch: false };
    expect(describeGrouping(byDefault, [batch]).description).toBe('the cells of the batch matrix: scenario × pairing × temperature (repetitions and seeds pooled)');
    expect(describeGrouping(byDefault, [batch, other])).toEqual({
      description: "batch runs by the cells of the batch matrix: scenario × pairing × temperature (repetitions and seeds pooled); other runs by scenario × agents' models",
      factors: ['scenario', 'pairing', 'temperature', 'models'],
    });
    expect(describeGrouping(parseGrouping('none'), [{ factors: {}, batch: false }])).toEqual({ description: 'one group of every run (--by none)', factors: [] });
  });
});
