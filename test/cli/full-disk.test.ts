import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readRunLog } from '../../src/runlog/reader.js';
import { lastJsonLine, onlyRunDir, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { expectedText, writeScenario } from './_scenario.js';

/**
 * A real small file system: a tmpfs of `kb` KiB, unmounted when the test finishes. Mounting needs root (or
 * CAP_SYS_ADMIN); where it is not permitted these tests are skipped, with the reason printed, and the full-disk
 * behaviour is still covered through the writer's write seam and /dev/full (test/runlog, test/arena).
 */
function mountTmpfs(kb: number): { dir: string; resize(kb: number): void } {
  const dir = mkdtempSync(join(tmpdir(), 'arena-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) throw new Error(`mount failed: ${mounted.stderr || mounted.error}`);
  onTestFinished(() => {
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    resize(size: number) {
      const r = spawnSync('mount', ['-o', `remount,size=${size}k`, dir], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`remount failed: ${r.stderr}`);
    },
  };
}

/** Whether this machine lets us mount a tmpfs (root in a sandbox, usually not in CI). */
function canMountTmpfs(): string | undefined {
  const probe = mkdtempSync(join(tmpdir(), 'arena-tmpfs-probe-'));
  try {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', probe], { encoding: 'utf8' });
    if (r.status !== 0) return (r.stderr || String(r.error ?? `exit ${r.status}`)).trim();
    spawnSync('umount', [probe]);
    return undefined;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const cannotMount = canMountTmpfs();
if (cannotMount) console.warn(`full-disk tests on a real tmpfs skipped: cannot mount one here (${cannotMount})`);

const TURNS = 60;

describe.skipIf(cannotMount !== undefined)('a full disk (a real 40 KiB tmpfs as the runs folder)', () => {
  it('arena run exits 1 with the reason, its log stops at a whole turn, and resume completes it once there is room', async () => {
    const dir = tempDir();
    const disk = mountTmpfs(40);
    const scenario = writeScenario(dir, { maxTurns: TURNS, chunkDelayMs: 1 });

    const run = await runCli(['run', scenario, '--no-view', '--runs-dir', disk.dir, '--json', '--quiet'], { cwd: dir });
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(run.code).toBe(1);
    const runDir = onlyRunDir(disk.dir);
    const file = join(runDir, 'events.jsonl');
    const result = lastJsonLine(run.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ runDir, status: 'failed', stopReason: 'log_unwritable' });
    expect(result.error).toMatch(/cannot write the run log: the disk is full \(ENOSPC\); it ends at turn \d+/);
    expect(run.stderr).toMatch(/failed \(log_unwritable\): .*events\.jsonl: cannot write the run log: the disk is full \(ENOSPC\)/);

    const cut = await readRunLog(file);
    expect(cut.truncatedTail).toBe(false);
    expect(cut.problems).toEqual([]);
    const before = cut.events.filter((e) => e.type === 'turn.completed').map((e) => e.turn);
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(TURNS);
    expect(before).toEqual(before.map((_, i) => i + 1));
    expect(result.turns).toBe(before.length);
    // Whatever the end of the log is, it is not a completed run.
    expect(cut.events.some((e) => e.type === 'run.finished' && e.status !== 'failed')).toBe(false);

    disk.resize(4096);
    const resumed = await runCli(['resume', runDir, '--json', '--quiet'], { cwd: dir });
    expect(resumed.stderr).not.toMatch(/\n\s+at /);
    expect(resumed.code).toBe(0);
    expect(lastJsonLine(resumed.stdout)).toMatchObject({ status: 'completed', stopReason: 'max_turns', turns: TURNS });
    const whole = await readRunLog(file);
    expect(whole.problems).toEqual([]);
    expect(whole.events.map((e) => e.seq)).toEqual(whole.events.map((_, i) => i + 1));
    const turns = whole.events.filter((e) => e.type === 'turn.completed');
    expect(turns.map((e) => e.turn)).toEqual(Array.from({ length: TURNS }, (_, i) => i + 1));
    expect(turns.map((e) => e.text)).toEqual(turns.map((e) => expectedText(e.turn)));
    expect(whole.events.at(-1)).toMatchObject({ type: 'run.finished', status: 'completed', turns: TURNS });
  });

  it('on a disk already full, run and batch say so in one line instead of crashing', async () => {
    const dir = tempDir();
    const disk = mountTmpfs(16);
    const scenario = writeScenario(dir, { maxTurns: 4, chunkDelayMs: 0, name: 'chat' });
    writeFileSync(join(dir, 'plan.yaml'), `name: full\nscenarios: [chat.yaml]\nrepetitions: 1\n`);
    // Fill it up: writeFileSync writes what fits and then fails.
    try {
      writeFileSync(join(disk.dir, 'filler'), Buffer.alloc(64 * 1024));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }

    const run = await runCli(['run', scenario, '--no-view', '--runs-dir', disk.dir, '--json', '--quiet'], { cwd: dir });
    expect(run.code).not.toBe(0);
    expect(run.stdout).not.toMatch(/"status":"completed"/);
    expect(run.stderr).toMatch(/^arena run: .*events\.jsonl: cannot write the run log \(ENOSPC: the disk is full\)\n$/);

    const batch = await runCli(['batch', 'plan.yaml', '--runs-dir', disk.dir, '--json', '--quiet'], { cwd: dir });
    expect(batch.code).toBe(1);
    expect(batch.stderr).toBe(`arena batch: cannot write the batch under ${disk.dir} (ENOSPC: the disk is full)\n`);
  });

  it('a batch reports the runs it could not write as failed, does not crash, and batch resume completes them', async () => {
    const dir = tempDir();
    const disk = mountTmpfs(120);
    writeScenario(dir, { maxTurns: TURNS, chunkDelayMs: 0, name: 'chat' });
    writeFileSync(join(dir, 'plan.yaml'), `name: full\nscenarios: [chat.yaml]\nrepetitions: 6\nconcurrency: 2\n`);

    const batch = await runCli(['batch', 'plan.yaml', '--runs-dir', disk.dir, '--json', '--quiet'], { cwd: dir });
    expect(batch.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(batch.code).toBe(1);
    const counts = (lastJsonLine(batch.stdout) as { runs: Record<string, number> }).runs;
    expect(counts.planned).toBe(6);
    expect(counts.failed).toBeGreaterThan(0);
    expect(counts.completed + counts.failed).toBe(6);
    const batchDir = join(disk.dir, readdirSync(disk.dir)[0]!);
    // No temporary file is left behind where the summary could not go.
    expect(readdirSync(batchDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    disk.resize(8192);
    const again = await runCli(['batch', 'resume', batchDir, '--json', '--quiet'], { cwd: dir });
    expect(again.stderr).not.toMatch(/\n\s+at /);
    expect(again.code).toBe(0);
    expect(lastJsonLine(again.stdout)).toMatchObject({ runs: { planned: 6, completed: 6, failed: 0 } });
    for (const name of readdirSync(batchDir).filter((f) => /^\d{4}-/.test(f))) {
      const log = await readRunLog(join(batchDir, name, 'events.jsonl'));
      expect(log.problems).toEqual([]);
      const turns = log.events.filter((e) => e.type === 'turn.completed').map((e) => e.turn);
      expect(turns).toEqual(Array.from({ length: TURNS }, (_, i) => i + 1));
      expect(log.events.at(-1)).toMatchObject({ type: 'run.finished', status: 'completed' });
    }
  });
});
