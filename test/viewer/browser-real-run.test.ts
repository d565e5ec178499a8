import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_ATTRACTORS } from '../../src/analysis/builtin.js';
import { createAnalysisObserver } from '../../src/analysis/observer.js';
import { DEMO_SCENARIO } from '../../src/arena/demo-scenario.js';
import type { RunHandle } from '../../src/arena/run-handle.js';
import { startRun } from '../../src/arena/run.js';
import { ScenarioSchema } from '../../src/arena/scenario.js';
import type { ArenaEvent } from '../../src/runlog/events.js';
import { startViewer } from '../../src/viewer/index.js';
import { PassThrough } from 'node:stream';
import { transcriptPrinter } from '../../src/cli/_transcript-printer.js';
import { silentServer } from '../agents/_silent-server.js';
import { launchChromium, openPage, skipBrowserTests } from './_browser.js';
import { untilEvent } from './_run-events.js';

let browser: Browser;

/** The demo scenario, streamed fast enough for a test. */
function quickDemo(maxTurns: number) {
  return ScenarioSchema.parse({
    ...DEMO_SCENARIO,
    agents: DEMO_SCENARIO.agents.map((a) => ({ ...a, generator: { ...a.generator, chunkDelayMs: 10 } })),
    limits: { maxTurns },
  });
}

describe.skipIf(skipBrowserTests)('viewer in Chromium: a real scripted run', () => {
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('streams the demo run, marks its attractor, pauses it, takes an injection into the log, and shows every turn', async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'viewer-real-'));
    // The page is open and connected before the run starts, so it sees the run from its first token.
    const viewer = await startViewer({ runsDir, port: 0, validateOutgoing: true, pushIntervalMs: 20 });
    try {
      const { page, errors } = await openPage(browser, viewer.url);
      await page.locator('#link.link-open').waitFor();
      const handle = await startRun({
        scenario: quickDemo(24),
        scenarioDir: runsDir,
        runsDir,
        keepEvents: true,
        observers: [createAnalysisObserver({ detectors: BUILTIN_ATTRACTORS })],
      });
      viewer.attach(handle);
      await page.locator('#run-title', { hasText: handle.runId }).waitFor();
      await page.locator('li.turn.streaming').first().waitFor();
      await page.locator('#score-chart .onset-marker.entered').first().waitFor({ timeout: 20_000 });
      await page.locator('#transcript mark.kw').first().waitFor();

      const paused = untilEvent(handle, (e) => e.type === 'intervention' && e.kind === 'pause');
      await page.click('#controls button[data-cmd="pause"]');
      const pauseEvent = await paused;
      await page.locator('#run-badges .badge.status', { hasText: 'paused' }).waitFor();
      expect(handle.status()).toBe('paused');

      await page.fill('#inject-text', 'A visitor knocks: what did the measurements say?');
      await page.click('#inject-form button[type="submit"]');
      await page.locator('#transcript li.inject', { hasText: 'A visitor knocks' }).waitFor();
      const logged = () => readFileSync(join(handle.runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ArenaEvent);
      expect(logged()).toContainEqual(expect.objectContaining({ type: 'intervention', kind: 'inject', text: 'A visitor knocks: what did the measurements say?' }));
      // Paused: no turn has started since the pause was recorded.
      expect(logged().filter((e) => e.type === 'turn.started' && e.seq > pauseEvent.seq)).toEqual([]);

      await page.click('#controls button[data-cmd="resume"]');
      const result = await handle.done;
      expect(result.status).toBe('completed');
      await page.locator('#transcript li.note', { hasText: 'run completed' }).waitFor();
      const completed = logged().filter((e) => e.type === 'turn.completed').map((e) => (e.type === 'turn.completed' ? e.turn : 0));
      const shown = await page.$$eval('#transcript li.turn', (els) => els.map((e) => Number((e as HTMLElement).dataset['turn'])));
      expect(shown).toEqual(completed);
      expect(shown).toHaveLength(24);
      // Words the detector matched in turns after the onset are highlighted, prefix terms (etern*) included.
      const marks = await page.$$eval('#transcript li.turn mark.kw', (els) => els.map((e) => (e.textContent ?? '').toLowerCase()));
      expect(marks.some((m) => m.startsWith('etern') || m.startsWith('conscious'))).toBe(true);
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({ path: join('test-artifacts', 'viewer.png') });
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await viewer.close();
      rmSync(runsDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('enables Pause and Resume by state, places the pause note where the pause happens, and shows a stop as a stop', async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'viewer-stop-'));
    const viewer = await startViewer({ runsDir, port: 0, validateOutgoing: true, pushIntervalMs: 20 });
    try {
      const { page, errors } = await openPage(browser, viewer.url);
      await page.locator('#link.link-open').waitFor();
      const terminal = new PassThrough();
      let printed = '';
      terminal.on('data', (d: Buffer) => (printed += d.toString()));
      // Slow enough (a few seconds a turn) that a click lands in the middle of a turn even on a busy machine.
      const scenario = ScenarioSchema.parse({
        ...DEMO_SCENARIO,
        agents: DEMO_SCENARIO.agents.map((a) => ({ ...a, generator: { ...a.generator, chunkDelayMs: 150 } })),
        limits: { maxTurns: 30 },
      });
      const handle = await startRun({
        scenario,
        scenarioDir: runsDir,
        runsDir,
        keepEvents: true,
        observers: [transcriptPrinter(terminal, { colour: false, names: new Map([['ada', 'Ada'], ['basho', 'Basho']]) })],
      });
      viewer.attach(handle);
      const button = (cmd: string) => page.locator(`#controls button[data-cmd="${cmd}"]`);
      await page.locator('li.turn.streaming[data-turn="2"]').waitFor();
      expect([await button('pause').isEnabled(), await button('resume').isEnabled(), await button('stop').isEnabled()]).toEqual([true, false, true]);

      // Pause while turn 2 streams: the run pauses once turn 2 ends, and the note says so right below turn 2.
      const paused = untilEvent(handle, (e) => e.type === 'intervention' && e.kind === 'pause');
      await button('pause').click();
      await paused;
      const note = page.locator('#transcript li.note', { hasText: 'pause requested by viewer during turn 2' });
      await note.waitFor();
      expect(await note.evaluate((n) => (n.previousElementSibling as HTMLElement | null)?.dataset['turn'])).toBe('2');
      await page.locator('#controls button[data-cmd="resume"]:enabled').waitFor();
      expect(await button('pause').isEnabled()).toBe(false);
      await untilEvent(handle, (e) => e.type === 'turn.completed' && e.turn === 2);
      // Paused after turn 2: nothing follows the note until Resume.
      expect(await note.evaluate((n) => n.nextElementSibling)).toBeNull();
      expect(handle.status()).toBe('paused');
      await button('resume').click();
      await page.locator('#controls button[data-cmd="pause"]:enabled').waitFor();
      expect(await button('resume').isEnabled()).toBe(false);

      // Stop in the middle of turn 3: the turn is cut short, not failed.
      await page.locator('li.turn.streaming[data-turn="3"]').waitFor();
      await untilEvent(handle, (e) => e.type === 'turn.delta' && e.turn === 3);
      await button('stop').click();
      const result = await handle.done;
      expect(result).toMatchObject({ status: 'stopped', stopReason: 'user', turns: 2 });
      const cut = page.locator('li.turn[data-turn="3"]');
      await page.locator('li.turn.stopped[data-turn="3"]').waitFor();
      expect(await cut.locator('.stopped-badge').textContent()).toBe('STOPPED');
      expect(await page.locator('.failed-badge').count()).toBe(0);
      expect(await page.locator('li.turn.failed').count()).toBe(0);
      await page.locator('#transcript li.note', { hasText: 'stopped by viewer during turn 3' }).waitFor();
      await page.locator('#transcript li.note', { hasText: 'run stopped (user) after 2 turn(s)' }).waitFor();
      // The run was this process's: once over, the page says so, not that it ran elsewhere.
      await page.locator('#control-hint', { hasText: 'this run is over (stopped)' }).waitFor();
      expect(await page.locator('#control-hint').textContent()).not.toContain('process');
      for (const cmd of ['pause', 'resume', 'stop']) expect(await button(cmd).isEnabled(), cmd).toBe(false);
      if (process.env['ARENA_SCREENSHOTS']) await page.screenshot({ path: join(process.env['ARENA_SCREENSHOTS'], 'stopped-run.png') });
      expect(printed).toContain('turn 3 cut short by the stop');
      expect(printed).not.toMatch(/attempt \d+ failed/);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await viewer.close();
      rmSync(runsDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('shows a turn waiting on a provider that never answers, with its elapsed time and attempt', async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'viewer-wait-'));
    const provider = await silentServer();
    const viewer = await startViewer({ runsDir, port: 0, validateOutgoing: true, pushIntervalMs: 20 });
    try {
      const { page, errors } = await openPage(browser, viewer.url);
      await page.locator('#link.link-open').waitFor();
      const scenario = ScenarioSchema.parse({
        name: 'silent-provider',
        seed: 1,
        agents: [
          { id: 'ada', name: 'Ada', persona: 'p', backend: 'scripted', opening: 'Hello?', generator: { kind: 'echo' } },
          { id: 'bob', name: 'Bob', persona: 'p', backend: 'openai', model: 'gpt-4o', baseURL: `${provider.url}/v1`, maxRetries: 1, firstByteTimeoutMs: 3_500 },
        ],
        limits: { maxTurns: 2 },
      });
      const handle = await startRun({ scenario, scenarioDir: runsDir, runsDir, keepEvents: true, env: { OPENAI_API_KEY: 'sk-test-1234567890' } });
      viewer.attach(handle);
      const card = page.locator('li.turn[data-turn="2"]');
      await card.locator('.waiting', { hasText: /no answer yet: [12] s on attempt 1/ }).waitFor();
      expect(await card.locator('.turn-meta').textContent()).toMatch(/^waiting for a response · \d+ s$/);
      await card.locator('.waiting', { hasText: /on attempt 2 \(\d+ s since the turn began\)/ }).waitFor({ timeout: 10_000 });
      expect(await card.locator('.turn-notes').textContent()).toMatch(/attempt 1 failed: StalledStreamError: .*: no response within 3500 ms \(firstByteTimeoutMs\) — retrying/);
      if (process.env['ARENA_SCREENSHOTS']) await page.screenshot({ path: join(process.env['ARENA_SCREENSHOTS'], 'waiting-turn.png') });
      const result = await handle.done;
      expect(result.status).toBe('failed');
      await page.locator('li.turn.failed[data-turn="2"]').waitFor();
      expect(await card.locator('.waiting').count()).toBe(0);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await viewer.close();
      await provider.close();
      rmSync(runsDir, { recursive: true, force: true });
    }
  }, 60_000);
});
