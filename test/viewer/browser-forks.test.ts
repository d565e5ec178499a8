import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startViewer } from '../../src/viewer/index.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { launchChromium, openPage, skipBrowserTests } from './_browser.js';

let browser: Browser;

const KNOCK = 'A loud knock at the door.';

interface ForkJson {
  runs: { runId: string; atTurn: number; sample: number }[];
}

describe.skipIf(skipBrowserTests)('viewer in Chromium: a run and its forks', () => {
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('lists forks under their parent as they appear, groups them by fork turn and condition, and shows where a fork departed', async () => {
    const dir = tempDir();
    const runsDir = join(dir, 'runs');
    const demo = await runCli(['demo', '--no-view', '--fast', '--quiet', '--json', '--max-turns', '12', '--embeddings', 'none', '--runs-dir', runsDir], { cwd: dir });
    expect(demo.code, demo.stderr).toBe(0);
    const parentId = (lastJsonLine(demo.stdout) as { runId: string }).runId;

    const viewer = await startViewer({ runsDir, port: 0, validateOutgoing: true, pushIntervalMs: 20 });
    try {
      const { page, errors } = await openPage(browser, `${viewer.url}&run=${encodeURIComponent(parentId)}`);
      await page.locator('#run-title', { hasText: parentId }).waitFor();
      await page.locator('li.turn[data-turn="12"]').waitFor();
      // Not a fork and no forks yet: no panel.
      expect(await page.locator('#fork-panel').isHidden()).toBe(true);

      // The forks are made while the page is open: their children appear live, as other new runs do.
      const resample = await runCli(['fork', parentId, '--at', '4,8', '--samples', '2', '--runs-dir', runsDir, '--json', '--quiet'], { cwd: dir });
      expect(resample.code, resample.stderr).toBe(0);
      const knock = await runCli(['fork', parentId, '--at', '6', '--samples', '1', '--inject', KNOCK, '--runs-dir', runsDir, '--json', '--quiet'], { cwd: dir });
      expect(knock.code, knock.stderr).toBe(0);
      const knocked = (lastJsonLine(knock.stdout) as ForkJson).runs[0]!;
      const resampled = (lastJsonLine(resample.stdout) as ForkJson).runs;

      // The parent's panel: 5 children, by fork turn (4, 6, 8), then condition.
      await expect.poll(() => page.locator('#fork-panel .fork-chip').count(), { timeout: 15_000 }).toBe(5);
      expect(await page.locator('#fork-panel .fork-head').textContent()).toBe('5 forks of this run');
      // The run list the server sends carries each run's fork facts and each parent's children count.
      const listed = await page.evaluate((id) => {
        const runs = (window as unknown as { arenaViewer: { state: { runs: Map<string, { children?: number; fork?: unknown }> } } }).arenaViewer.state.runs;
        return { parent: runs.get(id), forks: [...runs.values()].flatMap((r) => (r.fork ? [r.fork] : [])) };
      }, parentId);
      expect(listed.parent).toMatchObject({ children: 5, fork: null });
      expect(listed.forks).toContainEqual({ parentRunId: parentId, atTurn: 6, sample: 1, condition: `inject:narrator:${KNOCK}` });
      expect(await page.$$eval('#fork-panel .fork-turn', (els) => els.map((e) => e.getAttribute('data-at-turn')))).toEqual(['4', '6', '8']);
      expect(await page.locator('#fork-panel .fork-turn[data-at-turn="4"] .fork-condition-name').allTextContents()).toEqual(['resample']);
      expect(await page.locator('#fork-panel .fork-turn[data-at-turn="6"] .fork-condition-name').allTextContents()).toEqual([`inject:narrator:${KNOCK}`]);
      expect(await page.locator('#fork-panel .fork-turn[data-at-turn="8"] .fork-chip .chip-sample').allTextContents()).toEqual(['#1', '#2']);
      await page.locator('#fork-panel .fork-turn[data-at-turn="8"] .fork-chip .badge.status', { hasText: 'completed' }).first().waitFor();

      // The run list: the children sit under their parent (the parent is selected, so its tree is open).
      const toggle = page.locator(`.fork-toggle[data-parent="${parentId}"]`);
      expect(await toggle.textContent()).toBe('▾ 5 forks');
      const nested = page.locator('.fork-children .run-item');
      expect(await nested.count()).toBe(5);
      expect(await page.locator('.fork-children .run-item .fork-place').allTextContents()).toEqual([
        '↳ turn 4 · resample · #1',
        '↳ turn 4 · resample · #2',
        `↳ turn 6 · inject:narrator:${KNOCK} · #1`,
        '↳ turn 8 · resample · #1',
        '↳ turn 8 · resample · #2',
      ]);
      expect(await page.locator('.fork-children .run-item .run-id').first().textContent()).toBe(`…${resampled[0]!.runId.slice(parentId.length)}`);
      // Top level holds the parent alone: no child is listed twice.
      expect(await page.locator('#run-list > li > .run-item').count()).toBe(1);
      await toggle.click();
      expect(await page.locator('.fork-children').count()).toBe(0);
      expect(await toggle.textContent()).toBe('▸ 5 forks');
      await toggle.click();
      expect(await nested.count()).toBe(5);
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({ path: join('test-artifacts', 'viewer-forks-parent.png') });

      // Open the perturbed child from the panel: a marker where it departed, the copied turns set apart.
      await page.locator(`#fork-panel .fork-chip[data-run-id="${knocked.runId}"]`).click();
      await page.locator('#run-title', { hasText: knocked.runId }).waitFor();
      await page.locator('li.turn[data-turn="12"]').waitFor();
      const marker = page.locator('#transcript li.fork-marker');
      expect(await marker.count()).toBe(1);
      expect(await marker.locator('.fork-marker-line').textContent()).toBe(`↳forked from ${parentId} at turn 6 — inject:narrator:${KNOCK}`);
      expect(await page.$$eval('#transcript li.turn.copied', (els) => els.map((e) => Number(e.getAttribute('data-turn'))))).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await page.$$eval('#transcript li.turn:not(.copied)', (els) => els.map((e) => Number(e.getAttribute('data-turn'))))).toEqual([7, 8, 9, 10, 11, 12]);
      // In order: the copied turn 6, the marker, the injected knock (the fork's own), then turn 7.
      const order = await page.$$eval('#transcript > li', (els) => els.map((e) => (e.classList.contains('fork-marker') ? 'marker' : e.classList.contains('inject') ? 'inject' : e.getAttribute('data-turn') ?? '')));
      const at = order.indexOf('marker');
      expect(order.slice(at - 1, at + 3)).toEqual(['6', 'marker', 'inject', '7']);
      expect(await page.locator('#transcript li.inject').getAttribute('class')).not.toContain('copied');
      expect(await page.locator('#transcript li.turn.copied .copied-tag').count()).toBe(6);
      const opacity = await page.$eval('#transcript li.turn.copied', (e) => getComputedStyle(e).opacity);
      expect(Number(opacity)).toBeLessThan(1);
      // The run.resumed of the fork's own turns is the marker, not a "run resumed" note.
      expect(await page.locator('#transcript li.note', { hasText: 'run resumed' }).count()).toBe(0);
      // The child's panel names its parent, and its line in the run list is the selected one, under the parent.
      expect(await page.locator('#fork-panel .fork-origin').textContent()).toBe(`↳forked from ${parentId} at turn 6 — inject:narrator:${KNOCK} · sample #1show turn 6`);
      // The charts shade the copied turns.
      expect(await page.locator('#score-chart .fork-band').getAttribute('data-at-turn')).toBe('6');
      await page.locator('#fork-panel .fork-jump').click();
      await expect.poll(() => marker.evaluate((e) => { const r = e.getBoundingClientRect(); const w = document.getElementById('transcript-wrap')!.getBoundingClientRect(); return r.top >= w.top && r.bottom <= w.bottom; })).toBe(true);
      expect(await page.locator('.fork-children .run-item.selected').getAttribute('data-run-id')).toBe(knocked.runId);
      await page.screenshot({ path: join('test-artifacts', 'viewer-forks-child.png') });

      // Back to the parent from the marker's link.
      await marker.locator('a.parent-link').click();
      await page.locator('#run-title', { hasText: parentId }).waitFor();
      expect(new URL(page.url()).searchParams.get('run')).toBe(parentId);
      await page.locator('#fork-panel .fork-chip').first().waitFor();

      // A plain resample: the marker names the condition, and the first generated turn follows it.
      await page.locator(`#fork-panel .fork-chip[data-run-id="${resampled[1]!.runId}"]`).click();
      await page.locator('#run-title', { hasText: resampled[1]!.runId }).waitFor();
      await page.locator('li.turn[data-turn="12"]').waitFor();
      expect(await page.locator('#transcript li.fork-marker .fork-marker-line').textContent()).toBe(`↳forked from ${parentId} at turn 4 — resample`);
      expect(await page.locator('#transcript li.turn.copied').count()).toBe(4);
      expect(errors).toEqual([]);
    } finally {
      await viewer.close();
    }
  }, 90_000);
});
