import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childSeed, forkMetaOf } from '../../src/fork/fork-meta.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { startChatServer } from './_chat-server.js';
import { readEvents, runParent, startedOf, turnTexts, writeScenario } from './_fork-fixtures.js';

interface ForkJson {
  parentRunId: string;
  atTurn?: number;
  atTurns: number[];
  batchId: string;
  batchDir: string;
  runs: { runId: string; runDir: string; atTurn: number; sample: number; status: string }[];
}

describe('arena fork', () => {
  it('forks a finished demo run at turn 8 into 3 children that copy turns 1–8 and continue the numbering', async () => {
    const dir = tempDir();
    const runsDir = join(dir, 'runs');
    const demo = await runCli(['demo', '--no-view', '--fast', '--quiet', '--json', '--max-turns', '14', '--embeddings', 'none', '--runs-dir', runsDir], { cwd: dir });
    expect(demo.code, demo.stderr).toBe(0);
    const parent = lastJsonLine(demo.stdout) as { runId: string; runDir: string };
    const parentEvents = readEvents(parent.runDir);
    const parentTexts = turnTexts(parentEvents);

    const r = await runCli(['fork', parent.runId, '--at', '8', '--samples', '3', '--runs-dir', runsDir, '--json', '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = lastJsonLine(r.stdout) as ForkJson;
    expect(out).toMatchObject({ parentRunId: parent.runId, atTurn: 8, atTurns: [8] });
    expect(out.runs).toHaveLength(3);
    expect(out.runs.map((c) => c.sample)).toEqual([1, 2, 3]);

    const seeds = new Set<number>();
    const continuations = new Set<string>();
    for (const child of out.runs) {
      expect(child).toMatchObject({ atTurn: 8, status: 'completed' });
      expect(existsSync(join(child.runDir, 'events.jsonl'))).toBe(true);
      const events = readEvents(child.runDir);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.every((e) => e.runId === child.runId)).toBe(true);
      const texts = turnTexts(events);
      expect(texts).toHaveLength(14);
      expect(texts.slice(0, 8)).toEqual(parentTexts.slice(0, 8));
      continuations.add(texts.slice(8).join('\n'));
      const started = startedOf(events);
      const fork = forkMetaOf(started);
      expect(fork).toMatchObject({ parentRunId: parent.runId, atTurn: 8, sample: child.sample, perturbation: null, condition: 'resample' });
      expect(resolve(child.runDir, fork!.parentRunDir)).toBe(parent.runDir);
      seeds.add(started.seed);
      // The analysis covers the copied turns too: every turn has its analysis.turn, once.
      const analysed = events.flatMap((e) => (e.type === 'analysis.turn' ? [e.turn] : [])).sort((a, b) => a - b);
      expect(analysed).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
      // The child's first generated turn comes after the copied ones: turn 9 starts after run.resumed.
      const resumedAt = events.findIndex((e) => e.type === 'run.resumed');
      const ninth = events.findIndex((e) => e.type === 'turn.started' && e.turn === 9);
      expect(resumedAt).toBeGreaterThan(events.findIndex((e) => e.type === 'turn.completed' && e.turn === 8));
      expect(ninth).toBeGreaterThan(resumedAt);
    }
    expect(seeds.size).toBe(3);
    expect(seeds.has(startedOf(parentEvents).seed)).toBe(false);
    // Different seeds, different continuations (the demo's drift draws its sentences from the seed).
    expect(continuations.size).toBeGreaterThan(1);
    expect(readdirSync(out.batchDir)).toEqual(expect.arrayContaining(['batch.json', 'summary.json', ...out.runs.map((c) => c.runId)]));
  });

  it('starts each child’s first generated turn from --prefill, and only that turn', async () => {
    const dir = tempDir();
    const runsDir = join(dir, 'runs');
    const demo = await runCli(['demo', '--no-view', '--fast', '--quiet', '--json', '--max-turns', '10', '--embeddings', 'none', '--runs-dir', runsDir], { cwd: dir });
    expect(demo.code, demo.stderr).toBe(0);
    const parent = lastJsonLine(demo.stdout) as { runId: string; runDir: string };
    const r = await runCli(['fork', parent.runId, '--at', '6', '--samples', '2', '--prefill', 'Honestly, ', '--runs-dir', runsDir, '--json', '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = lastJsonLine(r.stdout) as ForkJson;
    for (const child of out.runs) {
      const events = readEvents(child.runDir);
      const completed = events.filter((e) => e.type === 'turn.completed') as { turn: number; text: string; prefill?: string }[];
      const seventh = completed.find((e) => e.turn === 7)!;
      expect(seventh.prefill).toBe('Honestly, ');
      expect(seventh.text.startsWith('Honestly, ')).toBe(true);
      expect(seventh.text.length).toBeGreaterThan('Honestly, '.length);
      expect(completed.filter((e) => e.prefill !== undefined).map((e) => e.turn)).toEqual([7]);
      expect(forkMetaOf(startedOf(events))).toMatchObject({ perturbation: { prefill: { text: 'Honestly, ' } } });
    }
  });

  it('injects a message after turn T that the children’s agents see, and --agent changes the backend of generated turns only', async () => {
    const dir = tempDir();
    const server = await startChatServer();
    try {
      const parentDir = await runParent(dir, writeScenario(dir, { maxTurns: 6 }));
      const parentTexts = turnTexts(readEvents(parentDir));
      const knock = 'A knock at the door.';
      const r = await runCli(['fork', parentDir, '--at', '4', '--samples', '2', '--inject', knock, '--as', 'narrator', '--agent', 'bo=openai:fork-model', '--json', '--quiet', '--out', join(dir, 'forked')], {
        cwd: dir,
        env: { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'test-key' },
      });
      expect(r.code, r.stderr).toBe(0);
      const out = lastJsonLine(r.stdout) as ForkJson;
      expect(out.batchDir).toBe(join(dir, 'forked'));
      for (const child of out.runs) {
        const events = readEvents(child.runDir);
        const texts = turnTexts(events);
        // Bo's copied turns stay his scripted ones; his generated turn (6) comes from the model.
        expect(texts.slice(0, 4)).toEqual(parentTexts.slice(0, 4));
        expect(texts[5]).toMatch(/^Model reply \d+\.$/);
        expect(texts[4]).not.toMatch(/^Model reply/);
        const inject = events.findIndex((e) => e.type === 'intervention');
        expect(events[inject]).toMatchObject({ type: 'intervention', turn: 4, kind: 'inject', text: knock, as: 'narrator' });
        expect(inject).toBeGreaterThan(events.findIndex((e) => e.type === 'turn.completed' && e.turn === 4));
        expect(inject).toBeLessThan(events.findIndex((e) => e.type === 'turn.started' && e.turn === 5));
        const started = startedOf(events);
        expect(started.agents.find((a) => a.id === 'bo')).toMatchObject({ backend: 'openai', model: 'fork-model' });
        expect(forkMetaOf(started)?.perturbation).toEqual({ inject: { text: knock, as: 'narrator' }, agents: { bo: 'openai:fork-model' } });
        expect(JSON.stringify(started)).not.toContain('test-key');
      }
      // One model request per child (turn 6); each saw the injected message in its transcript, after turn 4.
      const seen = server.seen();
      expect(seen).toHaveLength(2);
      for (const req of seen) {
        expect(req.model).toBe('fork-model');
        const contents = req.messages.map((m) => JSON.stringify(m.content));
        const at = contents.findIndex((c) => c.includes(knock));
        expect(at).toBeGreaterThan(contents.findIndex((c) => c.includes(JSON.stringify(parentTexts[3]).slice(1, -1))));
      }
    } finally {
      await server.close();
    }
  });

  it('forks at several turns with --at 4,2 and reports each child’s turn', async () => {
    const dir = tempDir();
    const parentDir = await runParent(dir, writeScenario(dir, { maxTurns: 6 }));
    const r = await runCli(['fork', parentDir, '--at', '4,2', '--samples', '2', '--seed', '99', '--json', '--quiet', '--runs-dir', join(dir, 'runs')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = lastJsonLine(r.stdout) as ForkJson;
    expect(out.atTurns).toEqual([4, 2]);
    expect(out.atTurn).toBeUndefined();
    expect(out.runs.map((c) => [c.atTurn, c.sample])).toEqual([[4, 1], [4, 2], [2, 1], [2, 2]]);
    const parentTexts = turnTexts(readEvents(parentDir));
    for (const child of out.runs) {
      const events = readEvents(child.runDir);
      const started = startedOf(events);
      // --seed is the base the children's seeds derive from.
      expect(forkMetaOf(started)).toMatchObject({ baseSeed: 99, atTurn: child.atTurn, sample: child.sample });
      expect(started.seed).toBe(childSeed(99, child.atTurn, child.sample));
      const texts = turnTexts(events);
      expect(texts).toHaveLength(6);
      expect(texts.slice(0, child.atTurn)).toEqual(parentTexts.slice(0, child.atTurn));
    }
  });

  it('counts only the generated turns as the fork’s spending; the child’s log totals cover the copied turns too', async () => {
    const dir = tempDir();
    const server = await startChatServer();
    try {
      const file = join(dir, 'priced.yaml');
      // $20 per million input tokens … set so that each reply (20 in, 3 out) costs $23.
      writeFileSync(
        file,
        `name: priced\nagents:\n  - { id: a, backend: openai, model: priced, baseURL: "${server.baseURL}" }\n  - { id: b, backend: openai, model: priced, baseURL: "${server.baseURL}" }\nlimits: { maxTurns: 4 }\nprices: { priced: { input: 1000000, output: 1000000 } }\n`,
      );
      const env = { OPENAI_API_KEY: 'test-key' };
      const run = await runCli(['run', file, '--runs-dir', join(dir, 'runs'), '--quiet', '--json'], { cwd: dir, env });
      expect(run.code, run.stderr).toBe(0);
      const parentDir = (lastJsonLine(run.stdout) as { runDir: string }).runDir;
      const r = await runCli(['fork', parentDir, '--at', '2', '--samples', '2', '--json', '--quiet', '--out', join(dir, 'f')], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(readFileSync(join(dir, 'f', 'summary.json'), 'utf8')) as { costUsd: number; results: { costUsd: number }[] };
      expect(summary.results.map((x) => x.costUsd)).toEqual([46, 46]);
      expect(summary.costUsd).toBe(92);
      for (const child of (lastJsonLine(r.stdout) as ForkJson).runs) {
        const finished = readEvents(child.runDir).find((e) => e.type === 'run.finished');
        expect(finished).toMatchObject({ status: 'completed', turns: 4, totals: { costUsd: 92 } });
      }
      // 4 parent turns, then 2 generated turns per child: the copied turns were never asked again.
      expect(server.seen()).toHaveLength(8);
    } finally {
      await server.close();
    }
  });

  describe('refuses bad input: exit 2, one line, nothing written', () => {
    let dir: string;
    let parentDir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'arena-fork-'));
      parentDir = await runParent(dir, writeScenario(dir, { maxTurns: 6 }));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each([
      ['a fork turn beyond the parent’s turns', (p: string) => ['fork', p, '--at', '7', '--samples', '2'], /has 6 completed turn\(s\); cannot fork at turn 7/],
      ['a run that does not exist', () => ['fork', 'no-such-run', '--at', '2'], /no-such-run: no such run folder or file/],
      ['an --agent without a model', (p: string) => ['fork', p, '--at', '2', '--agent', 'bo=openai'], /--agent expects <id>=<backend>:<model>/],
      ['an --agent for an agent the run lacks', (p: string) => ['fork', p, '--at', '2', '--agent', 'zed=openai:m'], /--agent: no agent 'zed' in the parent run/],
      ['an --agent with an unknown backend', (p: string) => ['fork', p, '--at', '2', '--agent', 'bo=telepathy:m'], /--agent bo=telepathy:m/],
      ['no --at', (p: string) => ['fork', p], /needs --at T/],
      ['an empty --prefill', (p: string) => ['fork', p, '--at', '2', '--prefill', ''], /--prefill needs a text/],
      ['a fork at the turn limit', (p: string) => ['fork', p, '--at', '6'], /pass --max-turns above 6/],
      ['--as for nobody', (p: string) => ['fork', p, '--at', '2', '--inject', 'hi', '--as', 'ghost'], /--as: no agent 'ghost'/],
    ])('%s', async (_name, argsOf, message) => {
      const runsDir = join(dir, 'runs');
      const before = readdirSync(runsDir);
      const r = await runCli([...argsOf(parentDir), '--runs-dir', runsDir], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(readdirSync(runsDir)).toEqual(before);
      expect(readFileSync(join(parentDir, 'events.jsonl'), 'utf8')).toContain('"run.finished"');
    });
  });
});
