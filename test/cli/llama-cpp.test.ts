import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ArenaEvent } from '../../src/runlog/events.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { countType, lastJsonLine, runCli, spawnCli, waitForLog } from '../helpers/cli.js';
import { skipLlamaTests } from '../helpers/llama.js';
import { BABBLER, TALKERS, writeTinyGguf, type TinyModelOptions } from '../helpers/tiny-gguf.js';
import { tempDir } from '../helpers/tmp-dir.js';

// `arena run` / `arena resume` on a scenario whose two agents are one GGUF model run by llama.cpp in the
// CLI's own process. The names carry "llama" so that CI fails a run that skipped them.

/** A two-agent llama-cpp scenario next to a tiny GGUF written for it. */
function writeLlamaScenario(dir: string, options: { model: TinyModelOptions; maxTurns: number; maxTokens: number; modelPath?: string }): string {
  writeTinyGguf(join(dir, 'tiny.gguf'), options.model);
  const agent = (id: string, name: string) => `  - id: ${id}
    name: ${name}
    backend: llama-cpp
    modelPath: ${options.modelPath ?? 'tiny.gguf'}
    contextWindow: 1024
    threads: 1
    sampling: { temperature: 0, maxTokens: ${options.maxTokens} }
`;
  const file = join(dir, 'llama.yaml');
  writeFileSync(file, `name: tiny-llama\nseed: 7\nagents:\n${agent('alice', 'Alice')}${agent('bob', 'Bob')}limits:\n  maxTurns: ${options.maxTurns}\n`);
  return file;
}

async function eventsOf(runDir: string): Promise<ArenaEvent[]> {
  const log = await readRunLog(join(runDir, 'events.jsonl'));
  expect(log.problems).toEqual([]);
  return log.events;
}

describe.skipIf(skipLlamaTests)('arena run with llama-cpp agents (real llama.cpp)', () => {
  it('llama: a scenario pointed at a GGUF runs from the CLI; the log has each turn streamed, cut at the next tag, with engine usage', async () => {
    const dir = tempDir();
    const scenario = writeLlamaScenario(dir, { model: TALKERS, maxTurns: 4, maxTokens: 32 });
    const res = await runCli(['run', scenario, '--no-view', '--runs-dir', join(dir, 'runs'), '--json', '--quiet'], { cwd: dir });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const { runDir } = lastJsonLine(res.stdout) as { runDir: string };
    const events = await eventsOf(runDir);
    expect(events[0]).toMatchObject({ type: 'run.started', agents: [{ id: 'alice', backend: 'llama-cpp' }, { id: 'bob', backend: 'llama-cpp' }] });
    const turns = events.filter((e) => e.type === 'turn.completed');
    expect(turns.map((t) => [t.agentId, t.text, t.finishReason])).toEqual([
      ['alice', 'ka lo mi', 'stop_sequence'],
      ['bob', 'zu ve', 'stop_sequence'],
      ['alice', 'ka lo mi', 'stop_sequence'],
      ['bob', 'zu ve', 'stop_sequence'],
    ]);
    // The engine's counts: every token it wrote, the newline and the other speaker's tag included.
    expect(turns.map((t) => t.usage.outputTokens)).toEqual([5, 4, 5, 4]);
    // Each turn's prompt is the whole document so far, as llama.cpp's tokenizer splits it: it grows each turn.
    const inputs = turns.map((t) => t.usage.inputTokens);
    expect(inputs.every((n, i) => i === 0 || n > inputs[i - 1]!)).toBe(true);
    expect(turns.every((t) => t.costUsd === 0)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'completed', stopReason: 'max_turns', turns: 4, totals: { outputTokens: 18 } });
  });

  it('llama: a run killed mid-turn is resumed from its log and says what an uninterrupted run says', async () => {
    const maxTurns = 10;
    // Each turn writes 40 tokens before maxTokens ends it, so the kill lands while the run is still going.
    const options = { model: BABBLER, maxTurns, maxTokens: 40 };

    const whole = tempDir();
    const straight = await runCli(['run', writeLlamaScenario(whole, options), '--no-view', '--runs-dir', join(whole, 'runs'), '--json', '--quiet'], { cwd: whole });
    expect(straight.code).toBe(0);
    const expected = (await eventsOf((lastJsonLine(straight.stdout) as { runDir: string }).runDir)).filter((e) => e.type === 'turn.completed');
    expect(expected.map((t) => t.text.split(' ').length)).toEqual(Array.from({ length: maxTurns }, () => 40));

    const dir = tempDir();
    const runsDir = join(dir, 'runs');
    const { child, exited } = spawnCli(['run', writeLlamaScenario(dir, options), '--no-view', '--runs-dir', runsDir, '--quiet'], { cwd: dir });
    const { runDir } = await waitForLog(runsDir, (events) => countType(events, 'turn.completed') >= 2, { exited, timeoutMs: 60_000 });
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');
    const killed = await eventsOf(runDir);
    expect(killed.some((e) => e.type === 'run.finished')).toBe(false);
    const doneBefore = countType(killed, 'turn.completed');
    expect(doneBefore).toBeLessThan(maxTurns);

    const res = await runCli(['resume', runDir, '--json', '--quiet'], { cwd: dir });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(lastJsonLine(res.stdout)).toMatchObject({ status: 'completed', stopReason: 'max_turns', turns: maxTurns });
    const events = await eventsOf(runDir);
    expect(events.slice(0, killed.length)).toEqual(killed);
    expect(events.find((e) => e.type === 'run.resumed')).toMatchObject({ fromTurn: doneBefore });
    const turns = events.filter((e) => e.type === 'turn.completed');
    expect(turns.map((t) => t.turn)).toEqual(Array.from({ length: maxTurns }, (_, i) => i + 1));
    expect(turns.map((t) => [t.agentId, t.text, t.usage])).toEqual(expected.map((t) => [t.agentId, t.text, t.usage]));
  });

  it('llama: a missing model file or one that is not a GGUF stops the run before it starts (exit 2, one line)', async () => {
    const dir = tempDir();
    const missing = await runCli(['run', writeLlamaScenario(dir, { model: TALKERS, maxTurns: 2, maxTokens: 8, modelPath: 'models/absent.gguf' }), '--no-view', '--runs-dir', join(dir, 'runs')], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain(`agent 'alice' (llama-cpp): no GGUF file at ${join(dir, 'models', 'absent.gguf')}`);

    writeFileSync(join(dir, 'weights.gguf'), '<html>404 Not Found</html>');
    const wrong = await runCli(['run', writeLlamaScenario(dir, { model: TALKERS, maxTurns: 2, maxTokens: 8, modelPath: 'weights.gguf' }), '--no-view', '--runs-dir', join(dir, 'runs')], { cwd: dir });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toContain(`${join(dir, 'weights.gguf')} is not a GGUF file`);

    // A header whose counts cannot fit in the file: node-llama-cpp's reader would take them at face value.
    const header = Buffer.alloc(24);
    header.write('GGUF', 0, 'latin1');
    header.writeUInt32LE(3, 4);
    header.writeBigUInt64LE(0xffff_ffffn, 8);
    writeFileSync(join(dir, 'torn.gguf'), Buffer.concat([header, Buffer.alloc(100)]));
    const torn = await runCli(['run', writeLlamaScenario(dir, { model: TALKERS, maxTurns: 2, maxTokens: 8, modelPath: 'torn.gguf' }), '--no-view', '--runs-dir', join(dir, 'runs')], { cwd: dir });
    expect(torn.code).toBe(2);
    expect(torn.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(torn.stderr).toContain(`${join(dir, 'torn.gguf')} has a corrupt or cut-short GGUF header (4294967295 tensors and 0 metadata entries cannot fit in 124 bytes)`);
  });

  it('llama: a GGUF whose tensor data is cut short fails its first turn with llama.cpp’s reason', async () => {
    const dir = tempDir();
    const scenario = writeLlamaScenario(dir, { model: TALKERS, maxTurns: 2, maxTokens: 8 });
    const whole = readFileSync(join(dir, 'tiny.gguf'));
    writeFileSync(join(dir, 'tiny.gguf'), whole.subarray(0, whole.length >> 1));
    const res = await runCli(['run', scenario, '--no-view', '--runs-dir', join(dir, 'runs'), '--json', '--quiet'], { cwd: dir });
    expect(res.code).toBe(1);
    const { runDir } = lastJsonLine(res.stdout) as { runDir: string };
    const events = await eventsOf(runDir);
    const failed = events.find((e) => e.type === 'turn.failed');
    expect(failed).toMatchObject({ agentId: 'alice', willRetry: false });
    expect(failed?.type === 'turn.failed' && failed.error.message).toMatch(/llama\.cpp could not load .*tiny\.gguf: .*not within the file bounds/u);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'failed' });
  });
});
