import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { readRunLog } from '../../src/runlog/reader.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';

const drift = (to: string) => `{ kind: drift, from: research, to: ${to}, onsetTurn: 2, rampTurns: 2, sentences: [3, 2] }`;

function scenario(dir: string, to: string | undefined): string {
  const generator = to ? drift(to) : '{ kind: script, loop: true, lines: ["we compare the field notes", "the measurements agree"] }';
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, `name: drifting\nseed: 5\nagents:\n  - id: a\n    backend: scripted\n    generator: ${generator}\n  - id: b\n    backend: scripted\n    generator: ${generator}\nlimits: { maxTurns: 12 }\n`);
  return file;
}

describe.concurrent('arena run --json names the attractors the run entered', () => {
  it('lists each attractor with the first turn its log says it was entered', async (ctx) => {
    const { expect } = ctx;
    const dir = tempDir(ctx);
    const res = await runCli(['run', scenario(dir, 'wedding'), '--json', '--quiet', '--runs-dir', join(dir, 'runs')], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    const out = lastJsonLine(res.stdout) as { runDir: string; attractors: { name: string; onsetTurn: number }[] };
    const { events } = await readRunLog(join(out.runDir, 'events.jsonl'));
    const first = new Map<string, number>();
    for (const e of events) if (e.type === 'attractor.entered' && !first.has(e.attractor)) first.set(e.attractor, e.turn);
    expect(first.has('wedding_party')).toBe(true);
    expect(out.attractors.map((a) => a.name).sort()).toEqual([...first.keys()].sort());
    for (const a of out.attractors) expect(a.onsetTurn).toBe(first.get(a.name));
    // Ordered by onset turn.
    expect(out.attractors.map((a) => a.onsetTurn)).toEqual([...out.attractors.map((a) => a.onsetTurn)].sort((x, y) => x - y));
  });

  it('gives an empty list for a run that entered none', async (ctx) => {
    const { expect } = ctx;
    const dir = tempDir(ctx);
    const res = await runCli(['run', scenario(dir, undefined), '--json', '--quiet', '--max-turns', '4', '--runs-dir', join(dir, 'runs')], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    const out = lastJsonLine(res.stdout) as { runDir: string; attractors: unknown[] };
    const { events } = await readRunLog(join(out.runDir, 'events.jsonl'));
    expect(events.some((e) => e.type === 'attractor.entered')).toBe(false);
    expect(out.attractors).toEqual([]);
  });
});
