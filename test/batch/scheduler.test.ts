import { describe, expect, it } from 'vitest';
import type { ManifestRun } from '../../src/batch/manifest.js';
import type { RunOutcome } from '../../src/batch/outcome.js';
import { schedule, type Executor } from '../../src/batch/scheduler.js';

const planned = (n: number): ManifestRun[] =>
  Array.from({ length: n }, (_, i) => ({ runId: `r${i}`, cell: { scenario: 's', scenarioFile: 's.yaml', pairing: ['a', 'b'], repetition: i + 1 }, scenario: {}, scenarioDir: '.' }) as unknown as ManifestRun);

describe('schedule', () => {
  it('starts a burst of runs in groups, so the first runs get going before the last are built', async () => {
    const order: string[] = [];
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const executor: Executor = {
      async execute(run): Promise<RunOutcome> {
        order.push(`start ${run.runId}`);
        // A run's first turn: a few async steps after its start, as a real run takes.
        await Promise.resolve();
        await Promise.resolve();
        order.push(`first turn ${run.runId}`);
        await hold;
        return { runId: run.runId, runDir: '', status: 'completed', stopReason: 'max_turns', turns: 1, costUsd: 0, resumed: false };
      },
    };
    const done = schedule({ pending: planned(350), finished: [], planned: 350, concurrency: 350, executor });
    await new Promise((r) => setTimeout(r, 50));
    release();
    const result = await done;
    expect(result.outcomes).toHaveLength(350);
    // Every run started, each once.
    expect(order.filter((e) => e.startsWith('start')).length).toBe(350);
    // Run r0's first turn came before the last run was even started.
    expect(order.indexOf('first turn r0')).toBeLessThan(order.indexOf('start r349'));
    expect(order.indexOf('first turn r0')).toBeLessThan(order.indexOf('start r200'));
  });
});
