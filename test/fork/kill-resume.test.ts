import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forkMetaOf } from '../../src/fork/fork-meta.js';
import { lastJsonLine, runCli, spawnCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { finishedRuns, until } from '../batch/_runs-on-disk.js';
import { readEvents, runParent, startedOf, turnTexts, writeScenario } from './_fork-fixtures.js';

const TURNS = 10;
const AT = 3;
const SAMPLES = 6;

/** Some child has generated a turn of its own (past the copied ones) and has turns left to generate. */
function generating(batchDir: string): boolean {
  return readdirSync(batchDir, { withFileTypes: true }).some((d) => {
    const file = join(batchDir, d.name, 'events.jsonl');
    if (!d.isDirectory() || !existsSync(file)) return false;
    const text = readFileSync(file, 'utf8');
    const completed = text.split('"type":"turn.completed"').length - 1;
    return !text.includes('"type":"run.finished"') && completed > AT && completed <= TURNS - 2;
  });
}

describe('arena fork, killed with SIGKILL and resumed', () => {
  it('ends with every child complete: copied turns once, generated turns once, one run.started each', async () => {
    const dir = tempDir();
    const parentDir = await runParent(dir, writeScenario(dir, { maxTurns: TURNS, chunkDelayMs: 6 }));
    const parentTexts = turnTexts(readEvents(parentDir));
    const out = join(dir, 'fork');
    const { child, exited } = spawnCli(['fork', parentDir, '--at', String(AT), '--samples', String(SAMPLES), '--concurrency', '2', '--out', out, '--quiet'], { cwd: dir });
    // Kill once some children are done and another is part-way through its generated turns.
    await until(() => (existsSync(out) && finishedRuns(out).length >= 2 && generating(out) ? true : undefined), 30_000);
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');
    const before = new Map(finishedRuns(out).map((id) => [id, readFileSync(join(out, id, 'events.jsonl'), 'utf8')]));
    expect(before.size).toBeLessThan(SAMPLES);

    const r = await runCli(['fork', '--resume', out, '--json', '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const json = lastJsonLine(r.stdout) as { atTurn: number; runs: { runId: string; runDir: string; status: string }[] };
    expect(json.atTurn).toBe(AT);
    expect(json.runs).toHaveLength(SAMPLES);
    expect(json.runs.every((c) => c.status === 'completed')).toBe(true);
    const runDirs = readdirSync(out, { withFileTypes: true }).filter((d) => d.isDirectory());
    expect(runDirs).toHaveLength(SAMPLES);
    let resumedMidway = 0;
    for (const c of json.runs) {
      const events = readEvents(c.runDir);
      const texts = turnTexts(events);
      expect(texts).toHaveLength(TURNS);
      expect(texts.slice(0, AT)).toEqual(parentTexts.slice(0, AT));
      expect(forkMetaOf(startedOf(events))).toMatchObject({ atTurn: AT });
      const resumes = events.flatMap((e) => (e.type === 'run.resumed' ? [e.fromTurn] : []));
      // Each child resumes from the fork turn once; a child the kill caught resumed again from a later turn.
      expect(resumes[0]).toBe(AT);
      if (resumes.length > 1 && resumes[1]! > AT) resumedMidway++;
      if (before.has(c.runId)) expect(readFileSync(join(c.runDir, 'events.jsonl'), 'utf8')).toBe(before.get(c.runId));
    }
    expect(resumedMidway).toBeGreaterThan(0);
  });
});
