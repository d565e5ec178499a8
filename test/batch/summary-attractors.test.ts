import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSummary, summaryMarkdown, type BatchSummary } from '../../src/batch/summary.js';
import { readManifest } from '../../src/batch/manifest.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { runMain } from '../helpers/main-in-process.js';
import { writeBatchFixture } from './_fixtures.js';

const PLAN = `scenarios: [chat.yaml]
models:
  - id: blissy
    backend: scripted
    generator: { kind: drift, from: research, to: bliss, onsetTurn: 2, rampTurns: 2, sentences: [3, 1] }
  - id: plain
    backend: scripted
    generator: { kind: script, loop: true, lines: ["we compare the field notes", "the measurements agree"] }
pairings: { selfPlay: true }
maxTurns: 10
`;

/** First turn of each attractor.entered in a run's log, read independently of the summary. */
async function onsets(runDir: string): Promise<{ name: string; onsetTurn: number }[]> {
  const first = new Map<string, number>();
  for (const e of (await readRunLog(join(runDir, 'events.jsonl'))).events) if (e.type === 'attractor.entered' && !first.has(e.attractor)) first.set(e.attractor, e.turn);
  return [...first].map(([name, onsetTurn]) => ({ name, onsetTurn })).sort((a, b) => a.onsetTurn - b.onsetTurn || a.name.localeCompare(b.name));
}

describe('batch summary names the attractors each run entered', () => {
  it('in summary.json (name and onset turn per run) and summary.md (per cell and per run)', async () => {
    const { dir } = writeBatchFixture(PLAN);
    const r = await runMain(['batch', 'plan.yaml', '--runs-dir', 'out', '--json'], dir);
    expect(r.code, r.err).toBe(0);
    const { batchDir } = JSON.parse(r.out.trim()) as { batchDir: string };
    const summary = JSON.parse(readFileSync(join(batchDir, 'summary.json'), 'utf8')) as BatchSummary;
    expect(summary.results).toHaveLength(2);
    const blissy = summary.results.find((x) => x.cell.pairing?.[0] === 'blissy')!;
    const plain = summary.results.find((x) => x.cell.pairing?.[0] === 'plain')!;
    expect(blissy.attractors).toEqual(await onsets(join(batchDir, blissy.runId)));
    expect(blissy.attractors!.map((a) => a.name)).toContain('spiritual_bliss');
    expect(plain.attractors).toEqual(await onsets(join(batchDir, plain.runId)));
    const md = readFileSync(join(batchDir, 'summary.md'), 'utf8');
    expect(md).toContain('attractors entered (runs)');
    const bliss = blissy.attractors!.find((a) => a.name === 'spiritual_bliss')!;
    expect(md).toMatch(new RegExp(`\\| chat \\| blissy × blissy \\| 1 \\| 1 \\| 0 \\| 10\\.0 \\| [^|]+ \\| [^|]+ \\| [^|]*spiritual_bliss 1[^|]* \\|`));
    expect(md).toContain(`| ${blissy.runId} | chat | blissy × blissy | completed | 10 | ${blissy.attractors!.map((a) => `${a.name} (turn ${a.onsetTurn})`).join(', ')} |`);
    expect(bliss.onsetTurn).toBeGreaterThan(1);
    const plainEntered = plain.attractors!.length === 0 ? 'none' : plain.attractors!.map((a) => `${a.name} (turn ${a.onsetTurn})`).join(', ');
    expect(md).toContain(`| ${plain.runId} | chat | plain × plain | completed | 10 | ${plainEntered} |`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('says a log that is not here is unknown, never "none"', async () => {
    const { dir } = writeBatchFixture(PLAN);
    const r = await runMain(['batch', 'plan.yaml', '--runs-dir', 'out', '--json'], dir);
    expect(r.code, r.err).toBe(0);
    const { batchDir } = JSON.parse(r.out.trim()) as { batchDir: string };
    const manifest = readManifest(batchDir);
    // As a remote worker's run: an outcome whose folder is not on this machine.
    const outcomes = manifest.runs.map((run) => ({ runId: run.runId, runDir: join(dir, 'elsewhere', run.runId), status: 'completed' as const, stopReason: 'max_turns', turns: 10, costUsd: 0, resumed: false }));
    const summary = buildSummary(manifest, batchDir, outcomes, [], undefined);
    for (const x of summary.results) expect(x.attractors).toBeUndefined();
    const md = summaryMarkdown(summary);
    expect(md).toContain(' 1 log not here |');
    expect(md).toMatch(/\| completed \| 10 \| \(log not here\) \|/);
    rmSync(dir, { recursive: true, force: true });
  });
});
