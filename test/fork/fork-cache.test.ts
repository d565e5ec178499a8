import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { startChatServer } from './_chat-server.js';
import { readEvents, runParent, turnTexts, writeScenario } from './_fork-fixtures.js';

interface ForkJson {
  runs: { runId: string; runDir: string; sample: number; status: string }[];
}

describe('arena fork --cache', () => {
  it('a rerun of the same fork replays every child from the cache, while the samples of one fork still differ', async () => {
    const dir = tempDir();
    const server = await startChatServer();
    try {
      // Forked at turn 5, the children generate only turn 6, Bo's, through the model: every sample sends the
      // very same request (the transcript of turns 1–5; the run's seed is not in it).
      const parentDir = await runParent(dir, writeScenario(dir, { maxTurns: 6 }));
      const fork = (out: string) =>
        runCli(['fork', parentDir, '--at', '5', '--samples', '3', '--agent', 'bo=openai:fork-model', '--concurrency', '1', '--cache', 'calls', '--out', join(dir, out), '--json', '--quiet'], {
          cwd: dir,
          env: { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'test-key' },
        });
      const first = await fork('first');
      expect(first.code, first.stderr).toBe(0);
      expect(server.seen()).toHaveLength(3);
      const requests = new Set(server.seen().map((r) => JSON.stringify(r.messages)));
      expect(requests.size).toBe(1);
      const firstRuns = (lastJsonLine(first.stdout) as ForkJson).runs;
      const sixth = (runDir: string) => {
        const events = readEvents(runDir);
        const done = events.flatMap((e) => (e.type === 'turn.completed' && e.turn === 6 ? [e] : []));
        expect(done).toHaveLength(1);
        expect(turnTexts(events)).toHaveLength(6);
        return done[0]!;
      };
      const firstTexts = firstRuns.map((c) => sixth(c.runDir).text);
      // Samples differ: each child has its own entry, so sample 2 did not get sample 1's recorded answer.
      expect(new Set(firstTexts).size).toBe(3);
      expect(firstRuns.map((c) => sixth(c.runDir).replay)).toEqual([undefined, undefined, undefined]);
      expect(readdirSync(join(dir, 'calls'), { recursive: true }).map(String).filter((f) => f.endsWith('.json'))).toHaveLength(3);

      // The same fork again: nothing sent, each child gets its own recorded answer back.
      const again = await fork('again');
      expect(again.code, again.stderr).toBe(0);
      expect(server.seen()).toHaveLength(3);
      const againRuns = (lastJsonLine(again.stdout) as ForkJson).runs;
      expect(againRuns.map((c) => c.sample)).toEqual(firstRuns.map((c) => c.sample));
      expect(againRuns.map((c) => sixth(c.runDir).text)).toEqual(firstTexts);
      expect(againRuns.map((c) => sixth(c.runDir))).toEqual(againRuns.map(() => expect.objectContaining({ replay: true, costUsd: 0 })));

      // Another base seed is another experiment: its samples are asked for anew.
      const reseeded = await runCli(['fork', parentDir, '--at', '5', '--samples', '1', '--seed', '99', '--agent', 'bo=openai:fork-model', '--cache', 'calls', '--out', join(dir, 'reseeded'), '--json', '--quiet'], {
        cwd: dir,
        env: { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'test-key' },
      });
      expect(reseeded.code, reseeded.stderr).toBe(0);
      expect(server.seen()).toHaveLength(4);
    } finally {
      await server.close();
    }
  });

  it('refuses a --cache folder that cannot be written before making the fork folder', async () => {
    const dir = tempDir();
    const parentDir = await runParent(dir, writeScenario(dir, { maxTurns: 6 }));
    writeFileSync(join(dir, 'a-file'), '');
    const r = await runCli(['fork', parentDir, '--at', '3', '--cache', 'a-file/calls', '--out', join(dir, 'never')], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--cache ${join(dir, 'a-file/calls')}: cannot write there (ENOTDIR)`);
    expect(readdirSync(dir)).not.toContain('never');
  });
});
