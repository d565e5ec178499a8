import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { readRunLog } from '../../src/runlog/reader.js';
import { CLI, lastJsonLine, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { launchChromium, openPage, skipBrowserTests } from '../viewer/_browser.js';

const VIEWER_LINE = /^viewer: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+&run=([\w-]+))$/m;

describe('arena demo and its viewer (the first visit)', () => {
  it('prints the viewer address on a line of its own before turn 1, and without a terminal does not wait', async (ctx) => {
    const dir = tempDir(ctx);
    const runsDir = join(dir, 'runs');
    const res = await runCli(['demo', '--view', '--fast', '--max-turns', '2', '--runs-dir', runsDir], { cwd: dir });
    expect(res.code).toBe(0);
    const match = VIEWER_LINE.exec(res.stdout);
    expect(match, res.stdout).not.toBeNull();
    expect(res.stdout.indexOf(match![0])).toBeLessThan(res.stdout.indexOf('── turn 1 · Ada ──'));
    // The address names the run that follows.
    const runLog = res.stdout.trimEnd().split('\n').at(-1)!.slice('run log: '.length);
    expect(runLog).toBe(join(runsDir, match![2]!, 'events.jsonl'));
    expect(res.stdout).not.toContain('Open that address');
  });

  it('fills the drift chart by default (offline embeddings, no key), and --embeddings none turns it off', async (ctx) => {
    const dir = tempDir(ctx);
    const drifts = async (extra: string[]) => {
      const res = await runCli(['demo', '--no-view', '--fast', '--quiet', '--json', '--max-turns', '6', '--runs-dir', join(dir, extra.join('') || 'default'), ...extra], { cwd: dir });
      expect(res.code, res.stderr).toBe(0);
      const { runDir } = lastJsonLine(res.stdout) as { runDir: string };
      const { events } = await readRunLog(join(runDir, 'events.jsonl'));
      return events.flatMap((e) => (e.type === 'analysis.turn' && typeof e.features['drift'] === 'number' ? [e.turn] : []));
    };
    const [on, off] = await Promise.all([drifts([]), drifts(['--embeddings', 'none'])]);
    expect(on).toEqual([1, 2, 3, 4, 5, 6]);
    expect(off).toEqual([]);
  });
});

describe.skipIf(skipBrowserTests)('arena demo on a terminal, watched in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('waits for the page, so the first visit sees the conversation from its start, with every chart filled', async (ctx) => {
    const dir = tempDir(ctx);
    const runsDir = join(dir, 'runs');
    // `script` gives the demo a real terminal, as a newcomer's shell would.
    const command = `exec ${process.execPath} ${CLI} demo --fast --max-turns 12 --runs-dir ${runsDir}`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let ended = false;
    const waiters = new Set<() => void>();
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const w of [...waiters]) w();
    });
    child.once('exit', () => {
      ended = true;
      for (const w of [...waiters]) w();
    });
    /** Resolves when the terminal shows `re`; rejects if the demo exits first. */
    const seen = (re: RegExp) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const m = re.exec(out.replace(/\r/g, ''));
          if (m || ended) waiters.delete(check);
          if (m) resolve(m);
          else if (ended) reject(new Error(`the demo exited before printing ${re}`));
        };
        waiters.add(check);
        check();
      });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Whatever happens to the test (a failure, a timeout), the demo must not outlive it: Ctrl-C twice through
    // the terminal ends it at any stage, and killing `script` hangs the terminal up as a last resort.
    ctx.onTestFinished(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin.write('\x03\x03');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000).unref())]);
      child.kill('SIGKILL');
    });
    try {
      const [, url, runId] = await seen(VIEWER_LINE);
      await seen(/Open that address to watch it live/);
      // Nothing has started while nobody watches.
      expect(existsSync(runsDir) ? readdirSync(runsDir) : []).toEqual([]);
      const opened = Date.now();
      const { page, errors } = await openPage(browser, url!);
      await seen(/the page connected\./);
      await page.locator('#run-title', { hasText: runId! }).waitFor();
      await page.locator('.note', { hasText: 'run completed (max_turns) after 12 turn(s)' }).waitFor({ timeout: 30_000 });
      const { events } = await readRunLog(join(runsDir, runId!, 'events.jsonl'));
      expect(Date.parse(events[0]!.ts)).toBeGreaterThanOrEqual(opened);
      expect(await page.locator('.turn').count()).toBe(12);
      // Charts are redrawn on the next animation frame, which may come after the closing note is shown (under
      // load the embedder's last drift points arrive with the run's end).
      await page.locator('#drift-chart .drift-line').waitFor({ timeout: 10_000 });
      expect(await page.locator('#drift-chart .drift-line').count()).toBe(1);
      expect(await page.locator('#drift-chart .empty-label').count()).toBe(0);
      expect(await page.locator('#score-chart polyline').count()).toBeGreaterThan(0);
      if (process.env['ARENA_SCREENSHOTS']) await page.screenshot({ path: join(process.env['ARENA_SCREENSHOTS'], 'demo-first-visit.png'), fullPage: false });
      expect(errors).toEqual([]);
      await seen(/the viewer stays open/);
      child.stdin.write('\x03');
      expect(await exited).toBe(0);
      expect(out).toContain('run log: ');
    } catch (err) {
      throw new Error(`${String(err)}\n--- the demo's terminal:\n${out}`);
    }
  }, 60_000);
});
