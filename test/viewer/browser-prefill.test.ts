import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunHandle } from '../../src/arena/run-handle.js';
import { startRun } from '../../src/arena/run.js';
import { ScenarioSchema } from '../../src/arena/scenario.js';
import type { ArenaEvent } from '../../src/runlog/events.js';
import { startViewer } from '../../src/viewer/index.js';
import { launchChromium, openPage, skipBrowserTests } from './_browser.js';
import { untilEvent } from './_run-events.js';

let browser: Browser;

describe.skipIf(skipBrowserTests)('viewer in Chromium: prefill the next turn of an agent', () => {
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('the inject box can prefill an agent\'s next turn: the run log and the page show prefill + continuation', async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'viewer-prefill-'));
    const viewer = await startViewer({ runsDir, port: 0, validateOutgoing: true, pushIntervalMs: 20 });
    try {
      const { page, errors } = await openPage(browser, viewer.url);
      await page.locator('#link.link-open').waitFor();
      const scenario = ScenarioSchema.parse({
        name: 'prefill-in-viewer',
        agents: [
          { id: 'alice', name: 'Alice', backend: 'scripted', generator: { kind: 'cycle', templates: ['Where now, {other}?'], chunkDelayMs: 40 } },
          { id: 'bob', name: 'Bob', backend: 'scripted', generator: { kind: 'cycle', templates: ['down to the river.'], chunkDelayMs: 40 } },
        ],
        limits: { maxTurns: 8 },
      });
      const handle = await startRun({ scenario, scenarioDir: runsDir, runsDir, keepEvents: true });
      viewer.attach(handle);
      await page.locator('#run-title', { hasText: handle.runId }).waitFor();
      await page.locator('li.turn.streaming').first().waitFor();

      const paused = untilEvent(handle, (e) => e.type === 'intervention' && e.kind === 'pause');
      await page.click('#controls button[data-cmd="pause"]');
      await paused;
      await page.locator('#run-badges .badge.status', { hasText: 'paused' }).waitFor();

      // An agent the run does not have is refused, and the page says why.
      await page.evaluate((runId) => {
        const viewer = (window as unknown as { arenaViewer: { conn: { send(m: unknown): unknown }; state: { token?: string } } }).arenaViewer;
        viewer.conn.send({ type: 'control', runId, ...(viewer.state.token ? { token: viewer.state.token } : {}), command: { type: 'prefill', text: 'x', agentId: 'carol' } });
      }, handle.runId);
      await page.locator('#control-msg', { hasText: "refused prefill: cannot prefill a turn of 'carol': no such agent" }).waitFor();

      await page.selectOption('#inject-as', 'prefill:bob');
      // Typed with its trailing blank: the continuation follows it as written.
      await page.fill('#inject-text', 'Well, I would say ');
      await page.click('#inject-form button[type="submit"]');
      await page.locator('#control-msg', { hasText: 'prefill sent' }).waitFor();
      const lastBefore = handle.lastSeq();

      await page.click('#controls button[data-cmd="resume"]');
      const result = await handle.done;
      expect(result.status).toBe('completed');
      const events = readFileSync(join(handle.runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ArenaEvent);
      const bobTurns = events.flatMap((e) => (e.type === 'turn.completed' && e.agentId === 'bob' && e.seq > lastBefore ? [e] : []));
      expect(bobTurns[0]).toMatchObject({ text: 'Well, I would say down to the river.', prefill: 'Well, I would say ' });
      // Only that one turn.
      expect(bobTurns.slice(1).every((t) => t.prefill === undefined && t.text === 'down to the river.')).toBe(true);
      const card = page.locator(`#transcript li.turn[data-turn="${bobTurns[0]!.turn}"]`);
      await card.locator('.turn-notes li', { hasText: 'started from the prefill' }).waitFor();
      expect(await card.textContent()).toContain('Well, I would say down to the river.');
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await viewer.close();
      rmSync(runsDir, { recursive: true, force: true });
    }
  }, 60_000);
});
