import { describe, expect, it } from 'vitest';
import { machineInput, output, startMachine } from './_machine-harness.js';

describe('conversation machine: who reported an attractor', () => {
  it("a judge's stop ends the run with stopReason judge_attractor, a detector's with attractor; the earlier stop point decides", async () => {
    const stopAfter = (afterTurns: number) => machineInput({ maxTurns: 20, onAttractor: [{ action: 'stop', attractor: 'spiritual_bliss', afterTurns }] });

    const judged = startMachine(stopAfter(1));
    (await judged.nextTurn()).resolve(output('t1'));
    const t2 = await judged.nextTurn();
    judged.actor.send({ type: 'ATTRACTOR', attractor: 'spiritual_bliss', turn: 1, source: 'judge' });
    t2.resolve(output('t2'));
    expect((await judged.done()).context.ending).toEqual({ status: 'completed', stopReason: 'judge_attractor' });

    // The detector's report stops at turn 2, the judge's (onset 3) later: the detector's stop is the one that ends it.
    const both = startMachine(stopAfter(0));
    (await both.nextTurn()).resolve(output('t1'));
    const u2 = await both.nextTurn();
    both.actor.send({ type: 'ATTRACTOR', attractor: 'spiritual_bliss', turn: 3, source: 'judge' });
    both.actor.send({ type: 'ATTRACTOR', attractor: 'spiritual_bliss', turn: 2 });
    u2.resolve(output('t2'));
    const snap = await both.done();
    expect(snap.context.ending).toEqual({ status: 'completed', stopReason: 'attractor' });
    expect(snap.context.turn).toBe(2);
  });

  it("a judge's perturbation is recorded by judge:<attractor>", async () => {
    const m = startMachine(machineInput({ maxTurns: 2, onAttractor: [{ action: 'perturb', attractor: '*', messages: ['Knock knock.'], as: 'narrator' }] }));
    (await m.nextTurn()).resolve(output('t1'));
    const t2 = await m.nextTurn();
    m.actor.send({ type: 'ATTRACTOR', attractor: 'wedding_party', turn: 1, source: 'judge' });
    t2.resolve(output('t2'));
    await m.done();
    expect(m.ofType('intervention')).toEqual([expect.objectContaining({ kind: 'perturb', by: 'judge:wedding_party', text: 'Knock knock.' })]);
  });
});
