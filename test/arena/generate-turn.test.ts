import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/arena/run.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { handAgent, say, scriptScenario } from './_run-fixtures.js';

describe('a turn that fails for good', () => {
  it('is recorded once, where the stream reported it, and ends the run naming the agent error', async () => {
    const runsDir = tempDir();
    const refused = Object.assign(new Error('model not found'), { status: 404 });
    const a = handAgent('a', async function* () {
      yield { type: 'text-delta', text: 'par' };
      yield { type: 'error', error: refused, attempt: 1, willRetry: false };
    });
    const b = handAgent('b', () => say('never asked'));
    const result = await runScenario({ scenario: scriptScenario(), scenarioDir: runsDir, runsDir, agents: [a, b] });
    expect(result).toMatchObject({ status: 'failed', stopReason: 'error', turns: 0, error: 'a: model not found' });
    const { events, problems } = await readRunLog(join(result.runDir, 'events.jsonl'));
    expect(problems).toEqual([]);
    expect(events.filter((e) => e.type === 'turn.failed')).toEqual([
      expect.objectContaining({ turn: 1, agentId: 'a', attempt: 1, willRetry: false, partialText: 'par', error: { name: 'Error', message: 'model not found', status: 404 } }),
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'failed', error: { name: 'AgentError', message: 'a: model not found' }, totals: { failedAttempts: 1 } });
  });
});
