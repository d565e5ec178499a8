import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runObservers } from '../../src/app/run-observers.js';
import { startRun } from '../../src/arena/run.js';
import { ScenarioSchema, type ScenarioInput } from '../../src/arena/scenario.js';
import { InputError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { tempDir } from '../helpers/tmp-dir.js';

/** Two scripted agents drifting from research talk into the bliss register from turn 5. */
function driftScenario(over: Partial<ScenarioInput> = {}) {
  const drift = { kind: 'drift', from: 'research', to: 'bliss', onsetTurn: 5, rampTurns: 2, chunkDelayMs: 0 };
  return ScenarioSchema.parse({
    name: 'library-caller',
    seed: 3,
    agents: [
      { id: 'a', backend: 'scripted', generator: drift },
      { id: 'b', backend: 'scripted', generator: drift },
    ],
    limits: { maxTurns: 14 },
    ...over,
  });
}

describe('the run wiring, called as a library (no CLI)', () => {
  it('gives startRun the live analysis: every turn analysed, the drift entered, all before run.finished', async () => {
    const dir = tempDir();
    const scenario = driftScenario({ detectors: ['spiritual_bliss'] });
    const observers = await runObservers(scenario, { scenarioDir: dir, logger: silentLogger() });
    const handle = await startRun({ scenario, scenarioDir: dir, runsDir: dir, logger: silentLogger(), observers });
    const result = await handle.done;
    expect(result).toMatchObject({ status: 'completed', turns: 14 });
    const { events } = await readRunLog(join(result.runDir, 'events.jsonl'));
    expect(events.filter((e) => e.type === 'analysis.turn')).toHaveLength(14);
    expect(events.filter((e) => e.type === 'attractor.entered').map((e) => e.attractor)).toEqual(['spiritual_bliss']);
    expect(events.at(-1)!.type).toBe('run.finished');
  });

  it('applies an onAttractor stop rule by the name the wiring checked', async () => {
    const dir = tempDir();
    const scenario = driftScenario({ detectors: ['spiritual_bliss'], stop: { onAttractor: [{ action: 'stop', attractor: 'spiritual_bliss', afterTurns: 0 }] } });
    const observers = await runObservers(scenario, { scenarioDir: dir, logger: silentLogger() });
    const result = await (await startRun({ scenario, scenarioDir: dir, runsDir: dir, logger: silentLogger(), observers })).done;
    expect(result).toMatchObject({ status: 'completed', stopReason: 'attractor' });
    expect(result.turns).toBeLessThan(14);
  });

  it('refuses an onAttractor name no detector of the scenario reports, naming the file, the place and the detectors', async () => {
    const dir = tempDir();
    const scenario = driftScenario({
      detectors: ['spiritual_bliss', 'repetition_loop'],
      stop: { onAttractor: [{ action: 'record', attractor: '*' }, { action: 'stop', attractor: 'spiritual_blis' }] },
    });
    const attempt = runObservers(scenario, { scenarioDir: dir, scenarioFile: 'my-scenario.yaml', logger: silentLogger() });
    await expect(attempt).rejects.toBeInstanceOf(InputError);
    await expect(attempt).rejects.toThrow(
      "my-scenario.yaml: stop.onAttractor[1].attractor: no detector named 'spiritual_blis' runs in this scenario (detectors: spiritual_bliss, repetition_loop)",
    );
  });

  it('says "scenario" when there is no file, and "none" when the scenario runs no detector', async () => {
    const scenario = driftScenario({ detectors: [], stop: { onAttractor: [{ action: 'stop', attractor: 'spiritual_bliss' }] } });
    await expect(runObservers(scenario, { logger: silentLogger() })).rejects.toThrow(
      "scenario: stop.onAttractor[0].attractor: no detector named 'spiritual_bliss' runs in this scenario (detectors: none)",
    );
  });

  it('gives no observer to a scenario that asks for no detector', async () => {
    expect(await runObservers(driftScenario({ detectors: [] }), { logger: silentLogger() })).toEqual([]);
  });
});
