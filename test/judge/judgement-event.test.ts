import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArenaEventSchema, type ArenaEvent, type EventBody, type Judgement } from '../../src/runlog/events.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { RunLogWriter } from '../../src/runlog/writer.js';
import { emptyListEntry, foldListEntry, toRunListEntry } from '../../src/viewer/run-list-entry.js';
import { runMain } from '../helpers/main-in-process.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { writeScenario } from '../cli/_scenario.js';

const TURNS = 6;

const verdicts: EventBody<Judgement> = {
  type: 'judgement',
  judge: { backend: 'openai', model: 'gpt-4o-mini' },
  rubric: { name: 'builtin', hash: 'sha256:0123456789abcdef' },
  window: [1, 6],
  verdicts: [{ attractor: 'repetition_loop', present: true, onsetTurn: 3, confidence: 0.8, evidence: 'alpha says' }],
  usage: { inputTokens: 900, outputTokens: 70 },
  costUsd: 0.0002,
};
const refused: EventBody<Judgement> = {
  type: 'judgement',
  judge: { backend: 'anthropic', model: 'claude-opus-4-5' },
  rubric: { name: 'builtin', hash: 'sha256:0123456789abcdef' },
  window: [1, 6],
  failure: { kind: 'refusal', message: 'declined' },
  usage: { inputTokens: 900, outputTokens: 10 },
  costUsd: 0.005,
};

const stamped = (body: object, seq = 1) => ({ v: 1, seq, ts: '2026-01-01T00:00:00.000Z', runId: 'r1', ...body });

describe('judgement events', () => {
  it('parse with verdicts or with a failure, and never with both or neither', () => {
    expect(ArenaEventSchema.parse(stamped(verdicts))).toMatchObject({ type: 'judgement', verdicts: verdicts.verdicts });
    expect(ArenaEventSchema.parse(stamped(refused))).toMatchObject({ type: 'judgement', failure: { kind: 'refusal' } });
    expect(ArenaEventSchema.safeParse(stamped({ ...verdicts, failure: { kind: 'error', message: 'x' } })).success).toBe(false);
    const { verdicts: _dropped, ...neither } = verdicts;
    expect(ArenaEventSchema.safeParse(stamped(neither)).success).toBe(false);
    expect(ArenaEventSchema.safeParse(stamped({ ...refused, failure: { kind: 'absent', message: 'x' } })).success).toBe(false);
    expect(ArenaEventSchema.safeParse(stamped({ ...verdicts, verdicts: [{ ...verdicts.verdicts![0], confidence: 2 }] })).success).toBe(false);
  });

  it('appended after run.finished, are read by show, analyze, stats, query, resume and the viewer list without a warning or a changed count', async () => {
    const dir = tempDir();
    const scenario = writeScenario(dir, { maxTurns: TURNS, chunkDelayMs: 0 });
    const run = await runMain(['run', scenario, '--no-view', '--quiet', '--json', '--runs-dir', join(dir, 'runs')], dir);
    expect(run.code, run.err).toBe(0);
    const { runDir } = JSON.parse(run.out.trim().split('\n').at(-1)!) as { runDir: string };
    const file = join(runDir, 'events.jsonl');
    const before = await readRunLog(file);
    const last = before.events.at(-1)!;
    expect(last.type).toBe('run.finished');

    // As `arena judge` will: through the writer (and its lock), seq following on.
    const writer = RunLogWriter.open(dirname(file), { lastSeq: last.seq });
    writer.append({ ...stamped(verdicts, last.seq + 1), runId: last.runId } as ArenaEvent);
    writer.append({ ...stamped(refused, last.seq + 2), runId: last.runId } as ArenaEvent);
    await writer.close();

    const after = await readRunLog(file);
    expect(after.problems).toEqual([]);
    expect(after.events.slice(-2).map((e) => e.type)).toEqual(['judgement', 'judgement']);
    expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(before.events.length + 2);

    const show = await runMain(['show', file], dir);
    const analyze = await runMain(['analyze', file, '--json'], dir);
    const stats = await runMain(['stats', file, '--by', 'none', '--json'], dir);
    const query = await runMain(['query', 'select count(*) as n from turns', file, '--json'], dir);
    const resume = await runMain(['resume', file, '--json', '--quiet'], dir);
    for (const r of [show, analyze, stats, query, resume]) {
      expect(r.code, r.err).toBe(0);
      expect(r.err).not.toContain('warning');
    }
    expect(show.out.split('── judgements ──')[0]!.split('\n').filter((l) => /alpha says|beta says/u.test(l))).toHaveLength(TURNS);
    const group = (JSON.parse(stats.out.trim().split('\n').at(-1)!) as { groups: { turns: number; runs: number }[] }).groups[0]!;
    expect(group.turns).toBe(TURNS);
    expect((JSON.parse(query.out.trim().split('\n').at(-1)!) as { rows: number[][] }).rows[0]![0]).toBe(TURNS);
    expect((JSON.parse(resume.out.trim().split('\n').at(-1)!) as { turns: number }).turns).toBe(TURNS);

    const entry = emptyListEntry(last.runId, runDir, null, false);
    for (const e of after.events) foldListEntry(entry, e);
    expect(toRunListEntry(entry)).toMatchObject({ status: 'completed', turns: TURNS });
  });
});
