import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ArenaEvent, RunStarted } from '../../src/runlog/events.js';
import { parseRunLog } from '../../src/runlog/reader.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';

/** A two-agent scripted scenario: Ada drifts (her words depend on the seed), Bo cycles through numbered lines. */
export function writeScenario(dir: string, options: { maxTurns: number; chunkDelayMs?: number }): string {
  const file = join(dir, 'pair.yaml');
  const delay = options.chunkDelayMs ?? 0;
  writeFileSync(
    file,
    `name: pair
agents:
  - id: ada
    name: Ada
    backend: scripted
    generator: { kind: drift, from: research, to: bliss, onsetTurn: 3, rampTurns: 4, chunkDelayMs: ${delay}, chunkWords: 1 }
  - id: bo
    name: Bo
    persona: A patient listener.
    backend: scripted
    generator: { kind: cycle, templates: ["bo answers at turn {turn}"], chunkDelayMs: ${delay}, chunkWords: 1 }
limits: { maxTurns: ${options.maxTurns} }
`,
  );
  return file;
}

/** Run a scenario with the real CLI; returns its run folder. */
export async function runParent(dir: string, scenarioFile: string, extra: string[] = []): Promise<string> {
  const r = await runCli(['run', scenarioFile, '--runs-dir', join(dir, 'runs'), '--quiet', '--json', ...extra], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return (lastJsonLine(r.stdout) as { runDir: string }).runDir;
}

export function readEvents(runDir: string): ArenaEvent[] {
  const file = join(runDir, 'events.jsonl');
  const log = parseRunLog(readFileSync(file), file);
  expect(log.problems).toEqual([]);
  expect(log.truncatedTail).toBe(false);
  return log.events;
}

/** turn → text of each turn.completed, asserting every turn appears once and in order. */
export function turnTexts(events: readonly ArenaEvent[]): string[] {
  const turns = events.flatMap((e) => (e.type === 'turn.completed' ? [e] : []));
  expect(turns.map((t) => t.turn)).toEqual(turns.map((_, i) => i + 1));
  return turns.map((t) => t.text);
}

export function startedOf(events: readonly ArenaEvent[]): RunStarted {
  const started = events.filter((e): e is RunStarted => e.type === 'run.started');
  expect(started).toHaveLength(1);
  return started[0]!;
}
