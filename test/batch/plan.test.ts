import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlan, PlanError } from '../../src/batch/load-plan.js';
import { ScenarioSchema } from '../../src/arena/scenario.js';
import { writeBatchFixture } from './_fixtures.js';

const MODELS = `models:
  - id: cyc
    backend: scripted
    generator: { kind: cycle, templates: ["hi"] }
  - id: ech
    backend: scripted
    generator: { kind: echo }
  - id: mir
    backend: scripted
    generator: { kind: echo, mode: mirror }
`;

async function planError(plan: string): Promise<PlanError> {
  const { planFile } = writeBatchFixture(plan);
  const err = await loadPlan(planFile).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlanError);
  return err as PlanError;
}

describe('batch plans', () => {
  it('crosses scenarios × pairings × temperatures × seeds × repetitions', async () => {
    const { planFile } = writeBatchFixture(`scenarios: [chat.yaml]
${MODELS}pairings: { selfPlay: true, mixedPlay: true, pairs: [[ech, cyc]] }
repetitions: 2
parameters: { temperature: [0.2, 0.9], seed: [5, 6, 7] }
maxTurns: 9
`);
    const loaded = await loadPlan(planFile);
    // 3 self-play + 3 mixed pairs + 1 chosen ordered pair = 7 pairings.
    expect(loaded.runs).toHaveLength(7 * 2 * 3 * 2);
    expect(new Set(loaded.runs.map((r) => r.runId)).size).toBe(loaded.runs.length);
    const mixed = loaded.runs.find((r) => r.cell.pairing?.join() === 'ech,cyc' && r.cell.temperature === 0.9 && r.cell.seed === 6 && r.cell.repetition === 2)!;
    expect(mixed.scenario.seed).toBe(6);
    expect(mixed.scenario.limits.maxTurns).toBe(9);
    // The pairing replaces the backend but keeps the scenario agent's identity and persona.
    const [ada, bo] = mixed.scenario.agents;
    expect(ada).toMatchObject({ id: 'ada', name: 'Ada', persona: 'curious', backend: 'scripted', generator: { kind: 'echo' }, sampling: { temperature: 0.9 } });
    expect(bo).toMatchObject({ id: 'bo', generator: { kind: 'cycle', templates: ['hi'] } });
    // Every expanded scenario is already valid as it stands (a batch run in this process does not parse it again).
    for (const r of loaded.runs) expect(ScenarioSchema.parse(r.scenario)).toEqual(r.scenario);
  });

  it('without models runs the scenario agents, repetitions stepping the seed', async () => {
    const { planFile } = writeBatchFixture('scenarios: [chat.yaml]\nrepetitions: 3\n');
    const loaded = await loadPlan(planFile);
    expect(loaded.runs.map((r) => [r.runId, r.scenario.seed])).toEqual([
      ['0001-chat-r1', 1],
      ['0002-chat-r2', 2],
      ['0003-chat-r3', 3],
    ]);
    expect(loaded.runs[0]!.cell.pairing).toBeNull();
  });

  it('names file:line:col, the path and the problem', async () => {
    const e1 = await planError(`scenarios: [chat.yaml]\n${MODELS}repetitions: zero\n`);
    expect(e1.message).toMatch(/plan\.yaml:12:14: repetitions: expected number, got string "zero"$/);
    const e2 = await planError(`scenarios: [chat.yaml]\n${MODELS}pairings: { pairs: [[cyc, gpt]] }\n`);
    expect(e2.message).toMatch(/plan\.yaml:12:\d+: pairings\.pairs\[0\]\[1\]: no model 'gpt' \(models: cyc, ech, mir\)/);
    const e3 = await planError(`scenarios: [chat.yaml, missing.yaml]\n`);
    expect(e3.message).toMatch(/plan\.yaml:1:24: scenarios\[1\]: no such scenario file .*missing\.yaml/);
    const e4 = await planError(`scenarios: [chat.yaml]\nconcurency: 3\n`);
    expect(e4.message).toMatch(/plan\.yaml:2:1: concurency: unknown key 'concurency'/);
  });

  it('points at the model entry that does not fit an agent seat', async () => {
    const err = await planError(`scenarios: [chat.yaml]
models:
  - id: bad
    backend: scripted
    generator: { kind: nonsense }
`);
    expect(err.message).toMatch(/plan\.yaml:5:\d+: models\[0\]\.generator.*model 'bad' in seat 'ada' of scenario 'chat'/);
  });

  it('rejects mixed play for scenarios that do not have two agents', async () => {
    const { dir, planFile } = writeBatchFixture(`scenarios: [trio.yaml]\n${MODELS}pairings: { mixedPlay: true }\n`);
    writeFileSync(
      join(dir, 'trio.yaml'),
      `name: trio\nturnPolicy: round-robin\nagents:\n${['x', 'y', 'z'].map((id) => `  - { id: ${id}, backend: scripted, generator: { kind: echo } }`).join('\n')}\n`,
    );
    await expect(loadPlan(planFile)).rejects.toThrow(/pairings\.mixedPlay: mixedPlay pairs two models, but scenario 1 has 3 agents/);
  });
});
