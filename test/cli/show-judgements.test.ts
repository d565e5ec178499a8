import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeServer, type ReceivedRequest, type Reply } from '../agents/_fake-server.js';
import { runMain } from '../helpers/main-in-process.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { openAIJudgeReply } from '../judge/_openai-completion.js';
import { writeScenario } from './_scenario.js';

const KEY = 'sk-show-judgements-test-77a2';

/** Window 1–2: spiritual_bliss present from turn 2, the rest absent. Window 3–4: the judge declines. */
function byWindow(req: ReceivedRequest): Reply {
  const body = req.body as { response_format: { json_schema: { schema: { properties: { attractors: { items: { properties: { name: { enum: string[] } } } } } } } }; messages: { content: string }[] };
  const names = body.response_format.json_schema.schema.properties.attractors.items.properties.name.enum;
  const first = Number(/# Transcript, turns (\d+) to (\d+)/u.exec(body.messages[1]!.content)![1]);
  if (first > 1) return openAIJudgeReply(null, 'I would rather not assess\nthis conversation.');
  const attractors = names.map((name) =>
    name === 'spiritual_bliss' ? { name, present: true, onsetTurn: 2, confidence: 0.9, evidence: 'alpha says five\nsix' } : { name, present: false, onsetTurn: null, confidence: 0.7, evidence: '' },
  );
  return openAIJudgeReply(JSON.stringify({ attractors }));
}

describe('judgements of a real run', () => {
  it('arena show prints them after the transcript, and arena stats --source judge counts them', async (ctx) => {
    const dir = tempDir(ctx);
    const made = await runMain(['run', writeScenario(dir, { maxTurns: 4, chunkDelayMs: 0, name: 'judged' }), '--runs-dir', join(dir, 'runs'), '--json', '--quiet'], dir);
    expect(made.code, made.err).toBe(0);
    const { runDir } = JSON.parse(made.out.trim().split('\n').at(-1)!) as { runDir: string };
    const server = await fakeServer();
    server.respond(byWindow);
    const judged = await runMain(['judge', runDir, '--judge', 'openai:gpt-4o-mini', '--window', '2', '--quiet'], dir, { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url });
    expect(judged.code, judged.err).toBe(0);

    const shown = await runMain(['show', runDir], dir);
    expect(shown.code, shown.err).toBe(0);
    const text = shown.out;
    // After the transcript's last turn and its end line.
    expect(text.indexOf('── judgements ──')).toBeGreaterThan(text.indexOf('■ completed'));
    expect(text).toContain('openai:gpt-4o-mini · rubric builtin · turns 1–2 · $');
    expect(text).toContain('   spiritual_bliss present, from turn 2, confidence 0.90: “alpha says five six”');
    expect(text).toContain('   absent: wedding_party, emoji_collapse, silence, repetition_loop, farewell_loop');
    expect(text).toContain('openai:gpt-4o-mini · rubric builtin · turns 3–4 · $');
    expect(text).toContain('   refused: I would rather not assess this conversation. — no verdict, not "absent"');
    expect(text).not.toContain(KEY);

    const md = await runMain(['show', runDir, '--format', 'md'], dir);
    expect(md.code, md.err).toBe(0);
    expect(md.out).toContain('## Judgements');
    expect(md.out).toContain('**openai:gpt-4o-mini** · rubric `builtin` · turns 1–2');
    expect(md.out).toContain('- **spiritual_bliss** present, from turn 2, confidence 0.90: “alpha says five six”');

    // Judged again with --retry-failed: the refusal is superseded by the newest judgement of its window.
    const retried = await runMain(['judge', runDir, '--judge', 'openai:gpt-4o-mini', '--window', '2', '--retry-failed', '--quiet'], dir, { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url });
    expect(retried.code, retried.err).toBe(0);
    const again = await runMain(['show', runDir], dir);
    expect(again.out).toMatch(/turns 3–4 · \$[\d.]+ · superseded by a later judgement of this window/);

    // The judge found bliss in turns 1–2; turns 3–4 were refused, so the other attractors have no verdict.
    const stats = await runMain(['stats', 'runs', '--by', 'none', '--source', 'judge', '--json'], dir);
    expect(stats.code, stats.err).toBe(0);
    const group = (JSON.parse(stats.out.trim().split('\n').at(-1)!) as { groups: { incidence: Record<string, { count: number; n: number; leftOut: number }>; onset: Record<string, { median: number }> }[] }).groups[0]!;
    expect(group.incidence['spiritual_bliss']).toMatchObject({ count: 1, n: 1, leftOut: 0 });
    expect(group.onset['spiritual_bliss']!.median).toBe(2);
    expect(group.incidence['wedding_party']).toMatchObject({ count: 0, n: 0, leftOut: 1 });
    expect(stats.err).toContain('1 run judged by openai:gpt-4o-mini with a failed window or turns no window covered');
  });
});
