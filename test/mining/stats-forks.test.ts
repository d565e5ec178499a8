import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import { inAfter, inAt, type ForkStats } from '../../src/mining/fork-stats.js';

interface Child { runId: string; runDir: string; atTurn: number }
type Events = Record<string, unknown>[];
const events = (runDir: string): Events => readFileSync(join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

/** Stays in an attractor, read straight from a log (independently of the code under test's folder). */
function stays(ev: Events, attractor: string) {
  const out: { enter: number; exit?: number }[] = [];
  for (const e of ev) {
    if (e.attractor !== attractor) continue;
    if (e.type === 'attractor.entered' && (out.length === 0 || out.at(-1)!.exit !== undefined)) out.push({ enter: e.turn as number });
    if (e.type === 'attractor.exited' && out.length > 0 && out.at(-1)!.exit === undefined) out.at(-1)!.exit = e.turn as number;
  }
  return out;
}
const lastTurn = (ev: Events) => Math.max(...ev.filter((e) => e.type === 'turn.completed').map((e) => e.turn as number));

let dir: string;
let runsDir: string;
let parent: { runId: string; runDir: string };
let resamples: { batchDir: string; runs: Child[] };
let knocked: { batchDir: string; runs: Child[] };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'arena-stats-forks-'));
  runsDir = join(dir, 'runs');
  const demo = await runCli(['demo', '--no-view', '--fast', '--quiet', '--json', '--max-turns', '18', '--embeddings', 'none', '--runs-dir', runsDir], { cwd: dir });
  expect(demo.code, demo.stderr).toBe(0);
  parent = lastJsonLine(demo.stdout) as typeof parent;
  const r = await runCli(['fork', parent.runId, '--at', '4,8,12', '--samples', '3', '--runs-dir', runsDir, '--json', '--quiet'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  resamples = lastJsonLine(r.stdout) as typeof resamples;
  const k = await runCli(['fork', parent.runId, '--at', '12', '--samples', '4', '--inject', 'A knock at the door: the train to the coast leaves in ten minutes.', '--runs-dir', runsDir, '--json', '--quiet'], { cwd: dir });
  expect(k.code, k.stderr).toBe(0);
  knocked = lastJsonLine(k.stdout) as typeof knocked;
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('arena stats --forks', () => {
  it('gives each fork turn the share of children in the attractor after it, as the children’s logs say, with Wilson intervals', async () => {
    const r = await runCli(['stats', runsDir, '--forks', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const stats = lastJsonLine(r.stdout) as ForkStats & { parentsRead: number; childrenRead: number };
    expect(stats).toMatchObject({ parentsRead: 1, childrenRead: 13, orphans: 0, persistenceTurns: 5, commitThreshold: 0.9 });
    expect(stats.parents).toHaveLength(1);
    const p = stats.parents[0]!;
    expect(p.parentRunId).toBe(parent.runId);
    expect(p.children).toBe(13);
    const bliss = p.curves.find((c) => c.attractor === 'spiritual_bliss' && c.perturbation === 'resample')!;
    expect(bliss.points.map((q) => [q.atTurn, q.n])).toEqual([[4, 3], [8, 3], [12, 3]]);
    for (const q of bliss.points) {
      const cell = resamples.runs.filter((c) => c.atTurn === q.atTurn).map((c) => events(c.runDir));
      const k = cell.filter((ev) => inAfter(stays(ev, 'spiritual_bliss'), q.atTurn, lastTurn(ev))).length;
      expect(q.k).toBe(k);
      expect(q.ci![0]).toBeLessThanOrEqual(q.share!);
      expect(q.ci![1]).toBeGreaterThanOrEqual(q.share!);
      // The parent's own state at the fork turn.
      expect(q.parentInAt).toBe(inAt(stays(events(parent.runDir), 'spiritual_bliss'), q.atTurn));
    }
    // Committed from the first fork turn after which every share stays at or above 0.9.
    const firstHigh = [...bliss.points].reverse().findIndex((q) => q.share! < 0.9);
    const expected = firstHigh === -1 ? bliss.points[0]!.atTurn : firstHigh === 0 ? null : bliss.points[bliss.points.length - firstHigh]!.atTurn;
    expect(bliss.committedFrom).toBe(expected);
    // The knocked children form their own condition, with persistence when the parent was in bliss at turn 12.
    const knock = p.curves.find((c) => c.attractor === 'spiritual_bliss' && c.perturbation.startsWith('inject:narrator:'))!;
    expect(knock.points.map((q) => [q.atTurn, q.n])).toEqual([[12, 4]]);
    const parentIn12 = inAt(stays(events(parent.runDir), 'spiritual_bliss'), 12);
    const persistence = p.persistence.find((x) => x.perturbation === knock.perturbation && x.attractor === 'spiritual_bliss');
    if (parentIn12) {
      const still = knocked.runs.map((c) => events(c.runDir)).filter((ev) => inAt(stays(ev, 'spiritual_bliss'), 17)).length;
      expect(persistence).toMatchObject({ atTurn: 12, inAtFork: 4, persistence: { k: still, n: 4 } });
    } else expect(persistence).toBeUndefined();
  });

  it('reads parents outside the folders from meta.fork.parentRunDir, and prints a table', async () => {
    const r = await runCli(['stats', knocked.batchDir, '--forks'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`parent ${parent.runId}`);
    expect(r.stdout).toMatch(/4 children of 1 parent;/);
    expect(r.stdout).toMatch(/fork turn\s+entered after the fork\s+share\s+95% CI \(Wilson\)/);
  });

  it('puts the commitment curves and the persistence table in the report', async () => {
    const out = join(dir, 'report.html');
    const r = await runCli(['report', runsDir, '--out', out, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(lastJsonLine(r.stdout)).toMatchObject({ forks: 13 });
    const html = readFileSync(out, 'utf8');
    const section = html.slice(html.indexOf('<section id="forks">'), html.indexOf('</section>', html.indexOf('<section id="forks">')));
    expect(section).toContain('13 forked children of 1 parent.');
    expect(section).toContain('Commitment curves: ');
    expect(section).toMatch(/<svg[^>]*>.*spiritual_bliss · resample/s);
    expect(section).toContain('still in 5 turns later');
  });

  it('says so, with exit 2, when no run under the folders is a fork', async () => {
    const r = await runCli(['stats', parent.runDir, '--forks'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no forks under .*: no run there has meta\.fork/);
    const bad = await runCli(['stats', runsDir, '--forks', '--format', 'csv'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--forks prints table, md or json/);
  });
});
