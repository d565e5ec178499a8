import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { writeBatchFixture } from './_fixtures.js';

/** The turns of a run's `embedding` events, and the embedders named. */
function embeddingsOf(runDir: string): { turns: number[]; models: Set<string>; drift: number } {
  const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; turn?: number; model?: string; features?: { drift?: number } });
  const embedded = events.filter((e) => e.type === 'embedding');
  return {
    turns: embedded.map((e) => e.turn!).sort((a, b) => a - b),
    models: new Set(embedded.map((e) => e.model!)),
    drift: events.filter((e) => e.type === 'analysis.turn' && typeof e.features?.drift === 'number').length,
  };
}

describe('embeddings for batch runs and fork children', () => {
  it('arena batch --embeddings offline embeds every turn of every run, in the process pool too', async () => {
    const { dir, planFile } = writeBatchFixture('name: embedded\nscenarios: [chat.yaml]\nrepetitions: 2\n', { maxTurns: 4 });
    try {
      const r = await runCli(['batch', planFile, '--runs-dir', join(dir, 'runs'), '--embeddings', 'offline', '--processes', '2', '--json', '--quiet'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      const { batchDir } = lastJsonLine(r.stdout) as { batchDir: string };
      const runs = readdirSync(batchDir, { withFileTypes: true }).filter((d) => d.isDirectory());
      expect(runs).toHaveLength(2);
      for (const run of runs) {
        const e = embeddingsOf(join(batchDir, run.name));
        expect(e.turns).toEqual([1, 2, 3, 4]);
        expect([...e.models]).toEqual(['offline:use-lite']);
        expect(e.drift).toBeGreaterThan(0);
      }
      const bad = await runCli(['batch', planFile, '--runs-dir', join(dir, 'runs'), '--embeddings', 'bert'], { cwd: dir });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--embeddings must be one of offline, openai, ollama, none, got 'bert'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("fork children embed as their parent did unless told otherwise", async () => {
    const dir = tempDir();
    const runsDir = join(dir, 'runs');
    const demo = await runCli(['demo', '--no-view', '--fast', '--quiet', '--json', '--max-turns', '6', '--embeddings', 'offline', '--runs-dir', runsDir], { cwd: dir });
    expect(demo.code, demo.stderr).toBe(0);
    const parent = lastJsonLine(demo.stdout) as { runId: string };
    const fork = async (...extra: string[]) => {
      const r = await runCli(['fork', parent.runId, '--at', '3', '--runs-dir', runsDir, '--json', '--quiet', ...extra], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      return embeddingsOf((lastJsonLine(r.stdout) as { runs: { runDir: string }[] }).runs[0]!.runDir);
    };
    // The parent's turns were embedded offline: so are the child's own (turns 4–6), after the copied 1–3.
    expect(await fork()).toMatchObject({ turns: [1, 2, 3, 4, 5, 6], models: new Set(['offline:use-lite']) });
    // Told none: only the copied embeddings are there.
    expect((await fork('--embeddings', 'none')).turns).toEqual([1, 2, 3]);
  }, 120_000);
});
