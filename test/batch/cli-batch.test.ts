import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { runMain } from '../helpers/main-in-process.js';
import { formatProgress, ProgressLine } from '../../src/batch/progress.js';
import { writeBatchFixture } from './_fixtures.js';

const arena = (args: string[], cwd: string) => runMain(args, cwd);

describe('arena batch (command line)', () => {
  it('prints exactly one JSON line last on stdout under --json', async () => {
    const { dir } = writeBatchFixture('scenarios: [chat.yaml]\nrepetitions: 3\n');
    const r = await arena(['batch', 'plan.yaml', '--runs-dir', 'out', '--json', '--concurrency', '2'], dir);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const json = JSON.parse(lines[0]!);
    expect(json).toMatchObject({ runs: { planned: 3, completed: 3, failed: 0, skipped: 0 } });
    expect(json.batchDir).toBe(join(dir, 'out', json.batchId));
    // Progress goes to stderr as plain lines when it is not a terminal.
    expect(r.err).toMatch(/\[#{20}\] 3\/3 done · 0 running · 0 failed · [\d.]+ turns\/s · \$0\.00 · ETA 0s/);

    const again = await arena(['batch', 'resume', json.batchDir, '--json'], dir);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out.trim())).toMatchObject({ batchId: json.batchId, runs: { completed: 3 } });
  });

  it('refuses to resume a batch that a live process is still running', async () => {
    const { dir } = writeBatchFixture('scenarios: [chat.yaml]\nrepetitions: 2\n', { chunkDelayMs: 20 });
    const first = arena(['batch', 'plan.yaml', '--runs-dir', 'out', '--json'], dir);
    // The batch folder and its lock appear before the first run starts.
    const { readdirSync } = await import('node:fs');
    const deadline = Date.now() + 10_000;
    let batchDir: string | undefined;
    while (!batchDir && Date.now() < deadline) {
      const names = existsSync(join(dir, 'out')) ? readdirSync(join(dir, 'out')) : [];
      if (names[0] && existsSync(join(dir, 'out', names[0], 'writer.lock'))) batchDir = join(dir, 'out', names[0]);
      else await new Promise((r) => setTimeout(r, 10));
    }
    expect(batchDir).toBeDefined();
    const second = await arena(['batch', 'resume', batchDir!, '--json'], dir);
    expect(second.code).toBe(2);
    expect(second.err).toMatch(/this batch is being written by process \d+/);
    const done = await first;
    expect(done.code).toBe(0);
    expect(JSON.parse(done.out.trim())).toMatchObject({ runs: { planned: 2, completed: 2, failed: 0 } });
    expect(existsSync(join(batchDir!, 'writer.lock'))).toBe(false);
  });

  it('refuses to resume one run of a batch while the batch is being run (the batch lock covers its runs)', async () => {
    const { dir } = writeBatchFixture('scenarios: [chat.yaml]\nrepetitions: 1\n');
    const r = await arena(['batch', 'plan.yaml', '--runs-dir', 'out', '--json'], dir);
    expect(r.code).toBe(0);
    const { batchDir } = JSON.parse(r.out.trim()) as { batchDir: string };
    const { readdirSync, statSync } = await import('node:fs');
    const runDir = readdirSync(batchDir).map((n) => join(batchDir, n)).find((p) => statSync(p).isDirectory())!;
    const { lockRunDir } = await import('../../src/runlog/writer-lock.js');
    const unlock = lockRunDir(batchDir, join(batchDir, 'batch.json'), 'batch');
    try {
      const refused = await arena(['resume', runDir, '--max-turns', '9'], dir);
      expect(refused.code).toBe(2);
      expect(refused.err).toMatch(/this batch is being written by process \d+ \(this one\)/);
    } finally {
      unlock();
    }
    const extended = await arena(['resume', runDir, '--max-turns', '9', '--no-view'], dir);
    expect(extended.err).not.toMatch(/being written/);
    expect(extended.code).toBe(0);
  });

  it('resumes a batch whose lock names a live process of an earlier boot (a pid reused after a reboot)', async () => {
    const { dir } = writeBatchFixture('scenarios: [chat.yaml]\nrepetitions: 2\n');
    const r = await arena(['batch', 'plan.yaml', '--runs-dir', 'out', '--json', '--quiet'], dir);
    const { batchDir } = JSON.parse(r.out.trim()) as { batchDir: string };
    const { spawn } = await import('node:child_process');
    const { writeFileSync } = await import('node:fs');
    const { hostname } = await import('node:os');
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => sleeper.once('spawn', resolve));
      const stale = { pid: sleeper.pid, host: hostname(), since: '2026-01-01T00:00:00.000Z', bootId: 'f0f0f0f0-0000-4000-8000-000000000000', startTicks: 1 };
      writeFileSync(join(batchDir, 'writer.lock'), JSON.stringify(stale));
      const again = await arena(['batch', 'resume', batchDir, '--json', '--quiet'], dir);
      expect(again.err).not.toMatch(/being written/);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.out.trim())).toMatchObject({ runs: { planned: 2, completed: 2 } });
      expect(existsSync(join(batchDir, 'writer.lock'))).toBe(false);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('reports a bad plan as one line with file:line:col and exit code 2', async () => {
    const { dir } = writeBatchFixture('scenarios: [chat.yaml]\nrepetitions: -1\n');
    const r = await arena(['batch', 'plan.yaml'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^arena batch: .*plan\.yaml:2:14: repetitions: Too small.*\n$/);
  });

  it('refuses bad flags before writing anything', async () => {
    const { dir } = writeBatchFixture('scenarios: [chat.yaml]\n');
    const zero = await arena(['batch', 'plan.yaml', '--runs-dir', 'out', '--concurrency', '0'], dir);
    expect(zero.code).toBe(2);
    expect(zero.err).toContain('--concurrency expects a whole number ≥ 1');
    const http = await arena(['batch', 'plan.yaml', '--runs-dir', 'out', '--queue', 'http://127.0.0.1:1'], dir);
    expect(http.code).toBe(2);
    expect(http.err).toContain('--queue expects a redis:// URL');
    const unreachable = await arena(['batch', 'plan.yaml', '--runs-dir', 'out', '--queue', 'redis://127.0.0.1:1'], dir);
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toMatch(/^arena batch: cannot reach Redis at 127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('says when the budget stopped runs from starting', async () => {
    const { dir } = writeBatchFixture('scenarios: [chat.yaml]\nrepetitions: 3\nbudget: { maxCostUsd: 1, estimatePerRunUsd: 0.6 }\n');
    const r = await arena(['batch', 'plan.yaml', '--runs-dir', 'out', '--json', '--quiet'], dir);
    expect(r.code).toBe(0);
    // Scripted runs cost nothing, but before any finishes the estimate counts: one starts, then the mean ($0) lets the rest in.
    expect(JSON.parse(r.out.trim()).runs).toMatchObject({ completed: 3, skipped: 0 });
    const tight = await arena(['batch', 'plan.yaml', '--runs-dir', 'out', '--json', '--quiet', '--budget', '0.5'], dir);
    expect(JSON.parse(tight.out.trim()).runs).toMatchObject({ planned: 3, completed: 0, skipped: 3 });
    expect(tight.err).toMatch(/3 run\(s\) not started: the cost budget would have been passed/);
  });
});

describe('arena batch: a batch lock lost while running', () => {
  it('stops the batch like Ctrl-C, says why and exits 1; the runs end interrupted and the batch resumes', async () => {
    const { dir } = writeBatchFixture('scenarios: [chat.yaml]\nrepetitions: 2\n', { maxTurns: 30, chunkDelayMs: 10 });
    const { readdirSync, readFileSync, statSync, writeFileSync } = await import('node:fs');
    const { hostname } = await import('node:os');
    const running = runMain(['batch', 'plan.yaml', '--runs-dir', 'out', '--json', '--quiet', '--concurrency', '2'], dir, { ARENA_LOCK_STALE_MS: '600' });
    const deadline = Date.now() + 15_000;
    let batchDir: string | undefined;
    // Wait until a run has finished a turn, so the stop cuts into runs under way.
    while (!batchDir && Date.now() < deadline) {
      const names = existsSync(join(dir, 'out')) ? readdirSync(join(dir, 'out')) : [];
      const candidate = names[0] ? join(dir, 'out', names[0]) : undefined;
      const logs = candidate ? readdirSync(candidate).map((n) => join(candidate, n, 'events.jsonl')).filter((f) => existsSync(f) && statSync(f).isFile()) : [];
      if (candidate && logs.some((f) => readFileSync(f, 'utf8').includes('"turn.completed"'))) batchDir = candidate;
      else await new Promise((r) => setTimeout(r, 20));
    }
    expect(batchDir).toBeDefined();
    // Another process takes the lock over (as a host that judged it stale would): this one must stop, not write alongside.
    writeFileSync(join(batchDir!, 'writer.lock'), JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), token: 'another-writer' }));
    const stopped = await running;
    expect(stopped.code).toBe(1);
    expect(stopped.err).toMatch(/stopped writing this batch/);
    expect(stopped.err).toContain(`arena batch resume ${batchDir}`);
    expect(stopped.err).not.toMatch(/\n\s+at /);
    const counts = JSON.parse(stopped.out.trim().split('\n').at(-1)!) as { runs: { completed: number; interrupted: number } };
    expect(counts.runs.interrupted).toBeGreaterThan(0);
    expect(counts.runs.completed).toBe(0);
    // The other writer's lock is left as it is.
    expect(JSON.parse(readFileSync(join(batchDir!, 'writer.lock'), 'utf8'))).toMatchObject({ token: 'another-writer' });

    const { unlinkSync } = await import('node:fs');
    unlinkSync(join(batchDir!, 'writer.lock'));
    const resumed = await runMain(['batch', 'resume', batchDir!, '--json', '--quiet'], dir);
    expect(resumed.err).not.toMatch(/being written/);
    expect(JSON.parse(resumed.out.trim().split('\n').at(-1)!)).toMatchObject({ runs: { planned: 2, completed: 2, failed: 0 } });
  }, 30_000);

  it('refuses an ARENA_LOCK_STALE_MS that is not a number of milliseconds', async () => {
    const { dir } = writeBatchFixture('scenarios: [chat.yaml]\nrepetitions: 1\n');
    const r = await runMain(['batch', 'plan.yaml', '--runs-dir', 'out', '--json'], dir, { ARENA_LOCK_STALE_MS: '30s' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('ARENA_LOCK_STALE_MS: expected a whole number of milliseconds, at least 300; got "30s"');
  });
});

describe('progress line', () => {
  const snap = { planned: 40, done: 12, failed: 1, interrupted: 0, running: 4, skipped: 3, turns: 900, turnsPerSec: 52.34, costUsd: 1.234, etaSec: 250 };
  it('shows done / running / failed, turns/s, cost and ETA', () => {
    expect(formatProgress(snap)).toBe('[########............] 12/40 done · 4 running · 1 failed · 3 skipped · 52.3 turns/s · $1.23 · ETA 4m10s');
  });
  it('rewrites one line on a terminal and prints occasional plain lines otherwise', () => {
    let tty = '';
    const t = new PassThrough();
    t.on('data', (d: Buffer) => (tty += d.toString()));
    const line = new ProgressLine(t, true);
    line.update(snap);
    line.update({ ...snap, done: 13 });
    expect(tty.split('\r\x1b[2K')).toHaveLength(3);
    expect(tty).not.toContain('\n');

    let plain = '';
    const p = new PassThrough();
    p.on('data', (d: Buffer) => (plain += d.toString()));
    let clock = 0;
    const every10s = new ProgressLine(p, false, 10_000, () => clock);
    clock = 10_000;
    every10s.update(snap);
    clock = 15_000;
    every10s.update({ ...snap, done: 13 });
    clock = 21_000;
    every10s.update({ ...snap, done: 14 });
    expect(plain.split('\n').filter(Boolean).map((l) => l.match(/(\d+)\/40/)![1])).toEqual(['12', '14']);
  });
});
