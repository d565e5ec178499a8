import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeServer, type ReceivedRequest, type Reply } from '../agents/_fake-server.js';
import { runMain } from '../helpers/main-in-process.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { writeScenario } from './_scenario.js';
import { openAIJudgeReply } from '../judge/_openai-completion.js';

const KEY = 'sk-eval-judge-test-5d1e';

const completion = openAIJudgeReply;

/** Every attractor of the request's schema absent, except spiritual_bliss, present from the window's second turn. */
function blissFromTurn2(req: ReceivedRequest): Reply {
  const body = req.body as { response_format: { json_schema: { schema: { properties: { attractors: { items: { properties: { name: { enum: string[] } } } } } } } }; messages: { content: string }[] };
  const names = body.response_format.json_schema.schema.properties.attractors.items.properties.name.enum;
  const first = Number(/# Transcript, turns (\d+) to (\d+)/u.exec(body.messages[1]!.content)![1]);
  const attractors = names.map((name) =>
    name === 'spiritual_bliss' ? { name, present: true, onsetTurn: first + 1, confidence: 0.9, evidence: 'says' } : { name, present: false, onsetTurn: null, confidence: 0.7, evidence: '' },
  );
  return completion(JSON.stringify({ attractors }));
}

describe('arena eval --source judge', () => {
  it('scores the judgements in the logs against labels; a refused or missing judgement is left out, never read as absent', async (ctx) => {
    const dir = tempDir(ctx);
    const runIds: string[] = [];
    const runDirs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const made = await runMain(['run', writeScenario(dir, { maxTurns: 4, chunkDelayMs: 0, name: `labelled-${i}` }), '--runs-dir', join(dir, 'runs'), '--json'], dir);
      expect(made.code, made.err).toBe(0);
      const { runId, runDir } = JSON.parse(made.out.trim().split('\n').at(-1)!) as { runId: string; runDir: string };
      runIds.push(runId);
      runDirs.push(runDir);
    }
    const server = await fakeServer();
    const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url };
    // Runs 0 and 1: bliss from turn 2. Run 2: the judge refuses. Run 3: never judged.
    server.respond(blissFromTurn2);
    const judged = await runMain(['judge', runDirs[0]!, runDirs[1]!, '--judge', 'openai:gpt-4o-mini', '--quiet'], dir, env);
    expect(judged.code, judged.err).toBe(0);
    server.respond(() => completion(null, 'I would rather not assess this conversation.'));
    const refused = await runMain(['judge', runDirs[2]!, '--judge', 'openai:gpt-4o-mini', '--quiet'], dir, env);
    expect(refused.code, refused.err).toBe(0);

    // Labels: run 0 is bliss from turn 2 (a hit), run 1 is not (a false alarm), runs 2 and 3 are bliss
    // (a refusal or no judgement must not turn them into misses).
    const labels = join(dir, 'labels.jsonl');
    writeFileSync(
      labels,
      [
        { run: runIds[0], attractor: 'spiritual_bliss', present: true, onsetTurn: 2 },
        { run: runIds[1], attractor: 'spiritual_bliss', present: false, onsetTurn: null },
        { run: runIds[2], attractor: 'spiritual_bliss', present: true, onsetTurn: 3 },
        { run: runIds[3], attractor: 'spiritual_bliss', present: true, onsetTurn: 3 },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    const scored = await runMain(['eval', 'runs', '--labels', labels, '--source', 'judge', '--json'], dir);
    expect(scored.code, scored.err).toBe(0);
    const report = JSON.parse(scored.out.trim().split('\n').at(-1)!) as { source: string; matched: number; attractors: { attractor: string; n: number; tp: number; fp: number; fn: number; onset: { median: number | null } }[] };
    expect(report.source).toBe('judge');
    expect(report.matched).toBe(4);
    expect(report.attractors.find((a) => a.attractor === 'spiritual_bliss')).toMatchObject({ n: 2, tp: 1, fp: 1, fn: 0 });
    expect(scored.err).toContain('2 of 4 labelled runs hold no judgement that covers every turn and did not fail (not scored)');

    // The same in words.
    const words = await runMain(['eval', 'runs', '--labels', labels, '--source', 'judge'], dir);
    expect(words.code, words.err).toBe(0);
    expect(words.out).toContain('the judgement events in the logs (arena judge)');

    // A second judge in the same logs: eval asks which one counts, and --judge chooses.
    server.respond(blissFromTurn2);
    const other = await runMain(['judge', runDirs[1]!, '--judge', 'openai:gpt-4o', '--quiet'], dir, env);
    expect(other.code, other.err).toBe(0);
    const ambiguous = await runMain(['eval', 'runs', '--labels', labels, '--source', 'judge'], dir);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.err).toMatch(/judgements by openai:gpt-4o, openai:gpt-4o-mini; choose one with --judge BACKEND:MODEL/);
    const chosen = await runMain(['eval', 'runs', '--labels', labels, '--source', 'judge', '--judge', 'openai:gpt-4o-mini', '--json'], dir);
    expect(chosen.code, chosen.err).toBe(0);
    expect(JSON.parse(chosen.out.trim().split('\n').at(-1)!).attractors[0]).toMatchObject({ attractor: 'spiritual_bliss', n: 2, tp: 1, fp: 1 });

    // --judge belongs to --source judge.
    const misplaced = await runMain(['eval', 'runs', '--labels', labels, '--judge', 'openai:gpt-4o'], dir);
    expect(misplaced.code).toBe(2);
    expect(misplaced.err).toContain('--judge applies to --source judge only');
  });
});
