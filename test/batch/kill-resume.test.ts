import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRunLog } from '../../src/runlog/reader.js';
import { runState } from '../../src/arena/run-state.js';
import { writeBatchFixture } from './_fixtures.js';
import { alive, finishedRuns, midRun, until } from './_runs-on-disk.js';

const MAIN = resolve(fileURLToPath(import.meta.url), '../../../dist/cli/main.js');
const TURNS = 8;

describe('arena batch, killed with SIGKILL and resumed', () => {
  it.each([
    ['in one process', []],
    ['with --processes 2', ['--processes', '2']],
  ])('%s: ends with 20 runs of exactly the planned turns each, none repeated', async (_name, extra) => {
    expect(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`).toBe(true);
    const { dir, planFile } = writeBatchFixture('scenarios: [chat.yaml]\nrepetitions: 20\nconcurrency: 4\n', { maxTurns: TURNS, chunkDelayMs: 8 });
    const runsDir = join(dir, 'runs');
    const child = spawn(process.execPath, [MAIN, 'batch', planFile, '--runs-dir', runsDir, '--quiet', ...extra], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    const batchDir = await until(() => (existsSync(runsDir) ? readdirSync(runsDir).map((n) => join(runsDir, n))[0] : undefined), 10_000);
    // Kill once half the runs are done and at least one other is part-way (runs go in waves of four,
    // so right after a wave ends the next may not have written a turn yet).
    const finishedBeforeKill = await until(() => {
      const f = finishedRuns(batchDir);
      return f.length >= 10 && midRun(batchDir, TURNS / 2) ? f : undefined;
    }, 20_000);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // Child processes of a pool end when their parent does; wait for them before resuming.
    const pids = new Set((readFileSync(join(batchDir, 'batch.log'), 'utf8').match(/"pid":\d+/g) ?? []).map((m) => Number(m.slice(6))));
    await until(() => ([...pids].some(alive) ? undefined : true), 10_000);
    const before = new Map(finishedRuns(batchDir).map((id) => [id, readFileSync(join(batchDir, id, 'events.jsonl'), 'utf8')]));
    expect(before.size).toBeLessThan(20);

    const resume = spawn(process.execPath, [MAIN, 'batch', 'resume', batchDir, '--json', '--quiet', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    resume.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    resume.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => resume.on('exit', (c) => r(c)));
    expect(code, stderr).toBe(0);
    const last = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(last).toMatchObject({ batchDir, runs: { planned: 20, completed: 20, failed: 0, skipped: 0 } });

    const runs = readdirSync(batchDir, { withFileTypes: true }).filter((d) => d.isDirectory());
    expect(runs).toHaveLength(20);
    let resumedMidRun = 0;
    for (const r of runs) {
      const file = join(batchDir, r.name, 'events.jsonl');
      const log = await readRunLog(file);
      expect(log.problems).toEqual([]);
      expect(log.truncatedTail).toBe(false);
      const turns = log.events.flatMap((e) => (e.type === 'turn.completed' ? [e.turn] : []));
      expect(turns).toEqual(Array.from({ length: TURNS }, (_, i) => i + 1));
      expect(log.events.filter((e) => e.type === 'run.started')).toHaveLength(1);
      const state = runState(log.events, file);
      expect(state.finished).toMatchObject({ status: 'completed', turns: TURNS });
      if (log.events.some((e) => e.type === 'run.resumed')) resumedMidRun++;
      // Runs that had finished before the kill were left exactly as they were.
      if (before.has(r.name)) expect(readFileSync(file, 'utf8')).toBe(before.get(r.name));
    }
    expect(finishedBeforeKill.length).toBeGreaterThanOrEqual(10);
    expect(resumedMidRun).toBeGreaterThan(0);
  });
});
