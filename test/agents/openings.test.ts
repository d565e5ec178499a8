import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/arena/run.js';
import { ScenarioSchema } from '../../src/arena/scenario.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { tempDir } from '../helpers/tmp-dir.js';

describe('opening lines', () => {
  it('are spoken first, in order, and a scripted generator starts from its own first line after them', async () => {
    const runsDir = tempDir();
    const scenario = ScenarioSchema.parse({
      name: 'openings',
      seed: 3,
      agents: [
        { id: 'a', name: 'Ada', backend: 'scripted', opening: ['Ada opens.', 'Ada again.'], generator: { kind: 'script', lines: ['ada one', 'ada two'] } },
        { id: 'b', name: 'Bea', backend: 'scripted', opening: 'Bea opens.', generator: { kind: 'script', lines: ['bea one', 'bea two'] } },
      ],
      limits: { maxTurns: 7 },
    });
    const result = await runScenario({ scenario, scenarioDir: runsDir, runsDir });
    const { events } = await readRunLog(join(result.runDir, 'events.jsonl'));
    const turns = events.flatMap((e) => (e.type === 'turn.completed' ? [`${e.agentId}: ${e.text} (${e.finishReason})`] : []));
    expect(turns).toEqual([
      'a: Ada opens. (stop)',
      'b: Bea opens. (stop)',
      'a: Ada again. (stop)',
      'b: bea one (stop)',
      'a: ada one (stop)',
      'b: bea two (stop)',
      'a: ada two (stop)',
    ]);
  });
});
