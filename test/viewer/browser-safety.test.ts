import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startViewer, type Viewer } from '../../src/viewer/server.js';
import { launchChromium, openPage, skipBrowserTests } from './_browser.js';
import { FakeRun } from './_fake-run.js';
import { TestClient } from './_ws-client.js';

let browser: Browser;
let runsDir: string;
let viewer: Viewer;
const pages: Page[] = [];

async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const opened = await openPage(browser, url);
  pages.push(opened.page);
  return opened;
}

const line = (o: Record<string, unknown>) => `${JSON.stringify({ v: 1, ts: new Date().toISOString(), ...o })}\n`;

/** A run log as another `arena` process would leave it. */
function diskRun(dir: string, runId: string, turns: number, attractor?: string, finished = true, meta?: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  let seq = 0;
  let text = line({ seq: ++seq, runId, type: 'run.started', scenario: { name: 'night' }, agents: [{ id: 'a', name: 'A', backend: 'scripted', model: 'm' }], seed: 1, limits: { maxTurns: 50 }, ...(meta ? { meta } : {}) });
  for (let t = 1; t <= turns; t++) {
    text += line({ seq: ++seq, runId, type: 'turn.completed', turn: t, agentId: 'a', text: `${runId} turn ${t}`, finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 }, costUsd: 0, latencyMs: 1, attempts: 1 });
  }
  if (attractor) text += line({ seq: ++seq, runId, type: 'attractor.entered', attractor, turn: turns, score: 0.8, evidence: {} });
  if (finished) text += line({ seq: ++seq, runId, type: 'run.finished', status: 'completed', stopReason: 'max_turns', turns, totals: { inputTokens: 0, outputTokens: 0, costUsd: 0, failedAttempts: 0, wallTimeMs: 1 } });
  const path = join(dir, 'events.jsonl');
  appendFileSync(path, text);
  return path;
}

describe.skipIf(skipBrowserTests)('viewer in Chromium: safety, batches, other processes', () => {
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    runsDir = mkdtempSync(join(tmpdir(), 'viewer-safety-'));
    viewer = await startViewer({ runsDir, port: 0, validateOutgoing: true, pushIntervalMs: 20, scanIntervalMs: 100, pollMs: 50 });
  });
  afterEach(async () => {
    for (const page of pages.splice(0)) await page.close();
    await viewer.close();
    rmSync(runsDir, { recursive: true, force: true });
  });

  it('shows HTML and script in model text as characters and runs none of it', async () => {
    const img = '<img src=x onerror="window.__pwned=1">';
    const script = '<script>window.__pwned=2</script>';
    const svgLoad = '<svg onload="window.__pwned=3"></svg>';
    const run = new FakeRun(
      runsDir,
      'xss',
      [
        { id: 'a', name: '<img src=x onerror="window.__pwned=4">', backend: 'scripted', model: '<b>m</b>' },
        { id: 'b', name: 'B', backend: 'scripted', model: 'm' },
      ],
      '<script>window.__pwned=5</script>',
    );
    viewer.attach(run);
    run.start();
    const { page, errors } = await open(viewer.url);
    await page.locator('#run-view[data-replayed="true"]').waitFor();
    const t1 = await run.begin('a', ['<img src=x ', 'onerror="window.__pwned=6">']);
    await page.locator('li.turn.streaming', { hasText: 'onerror=' }).waitFor();
    run.complete(t1, 'a', img);
    await run.turn('b', script);
    await run.turn('a', `${svgLoad} and <a href="javascript:window.__pwned=7">click</a>`);
    run.enter('<i onmouseover="window.__pwned=8">bliss</i>', 3, 0.9, ['<img src=x onerror="window.__pwned=9">', 'and']);
    run.send({ type: 'inject', by: 'viewer', text: '<iframe src="javascript:window.__pwned=10"></iframe>' });
    const t4 = await run.begin('b', []);
    run.fail(t4, 'b', '<img src=x onerror="window.__pwned=11">', false);
    await page.locator('li.turn.failed[data-turn="4"]').waitFor();
    await page.locator('li.inject').waitFor();

    const texts = await page.$$eval('#transcript li.turn .turn-text', (els) => els.map((e) => e.textContent));
    expect(texts.slice(0, 3)).toEqual([img, script, `${svgLoad} and <a href="javascript:window.__pwned=7">click</a>`]);
    expect(await page.locator('li.inject .turn-text').textContent()).toBe('<iframe src="javascript:window.__pwned=10"></iframe>');
    expect(await page.locator('li.turn.failed .turn-notes').textContent()).toContain('<img src=x onerror="window.__pwned=11">');
    expect(await page.locator('#run-scenario').textContent()).toBe('<script>window.__pwned=5</script>');
    expect(await page.locator('li.turn[data-turn="1"] .speaker').textContent()).toBe('<img src=x onerror="window.__pwned=4">');
    await page.locator('#transcript li.onset .onset-badge', { hasText: '<i onmouseover=' }).waitFor();
    await page.hover('#transcript li.onset');
    const elements = await page.locator('#transcript img, #transcript script, #transcript svg, #transcript iframe, #transcript a, #transcript i, #run-head img, #run-head script').count();
    expect(elements).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('refuses controls from a page without the token, and from one with a wrong token', async () => {
    const run = new FakeRun(runsDir, 'guarded');
    viewer.attach(run);
    run.start();
    const { page } = await open(viewer.baseUrl);
    await page.locator('#control-hint', { hasText: 'read-only link' }).waitFor();
    await page.click('#controls button[data-cmd="pause"]');
    await page.locator('#control-msg.tone-error', { hasText: 'control refused' }).waitFor();
    const wrong = await open(`${viewer.baseUrl}?token=not-the-token`);
    await wrong.page.locator('#run-view[data-replayed="true"]').waitFor();
    await wrong.page.click('#controls button[data-cmd="stop"]');
    await wrong.page.locator('#control-msg.tone-error', { hasText: 'control refused' }).waitFor();
    expect(run.commands).toEqual([]);
    expect(run.status()).toBe('running');
  });

  it('keeps the page live while another client sends garbage', async () => {
    const run = new FakeRun(runsDir, 'steady');
    viewer.attach(run);
    run.start();
    const { page, errors } = await open(viewer.url);
    await page.locator('#run-view[data-replayed="true"]').waitFor();
    const rogue = await TestClient.open(viewer.baseUrl);
    rogue.send('{{{ garbage');
    rogue.send({ type: 'control', runId: 'steady', command: { type: 'explode' } });
    const err = await rogue.waitFor('error');
    expect(err.code).toBe('bad_message');
    await run.turn('a', 'still streaming to the page');
    await page.locator('li.turn', { hasText: 'still streaming to the page' }).waitFor();
    rogue.ws.terminate();
    expect(errors).toEqual([]);
  });

  it('shows a batch as a matrix (pairing × parameters, tiles by repetition) with every attractor and its onset, live', async () => {
    const batch = join(runsDir, '20261201T220000Z-night-1');
    // Two pairings × two temperatures × two repetitions; each run id ends in the same long batch prefix.
    const cell = (pairing: string[], temperature: number, repetition: number) => ({ batchId: 'night-1', cell: { index: 1, scenario: 'night', scenarioFile: '/s.yaml', pairing, repetition, temperature, seed: repetition } });
    const run = (id: string, turns: number, attractor: string | undefined, pairing: string[], temperature: number, repetition: number) =>
      diskRun(join(batch, id), id, turns, attractor, true, cell(pairing, temperature, repetition));
    run('20261201T220001Z-night-aaaa01', 12, 'spiritual-bliss', ['claude', 'claude'], 0.7, 2);
    run('20261201T220001Z-night-aaaa02', 9, 'repetition', ['claude', 'claude'], 0.7, 1);
    run('20261201T220001Z-night-aaaa03', 30, undefined, ['claude', 'gpt'], 0.7, 1);
    run('20261201T220001Z-night-aaaa04', 14, 'spiritual-bliss', ['claude', 'gpt'], 1, 1);
    run('20261201T220001Z-night-aaaa05', 20, undefined, ['claude', 'claude'], 1, 1);
    const { page, errors } = await open(`${viewer.url}&view=grid`);
    await page.locator('#grid .cell').nth(4).waitFor();
    const headers = await page.$$eval('#grid thead th', (els) => els.map((e) => e.textContent));
    expect(headers).toEqual(['pairing', 'temperature 0.7', 'temperature 1']);
    const rows = await page.$$eval('#grid tbody tr', (trs) =>
      trs.map((tr) => [tr.querySelector('th')!.textContent, ...Array.from(tr.querySelectorAll('td')).map((td) => Array.from(td.querySelectorAll('.cell')).map((c) => `${c.querySelector('.cell-rep')!.textContent} ${(c as HTMLElement).dataset['runId']!.slice(-2)}`).join(','))]),
    );
    // Repetitions in order within a cell, whatever the run ids say.
    expect(rows).toEqual([
      ['claude ↔ claude', '#1 02,#2 01', '#1 05'],
      ['claude ↔ gpt', '#1 03', '#1 04'],
    ]);
    const chips = await page.$$eval('#grid .cell[data-run-id$="01"] .onset-chip', (els) => els.map((e) => e.textContent));
    expect(chips).toEqual(['spiritual-bliss @12']);
    expect(await page.locator('#grid .cell[data-run-id$="03"] .cell-none').textContent()).toBe('no attractor');
    // Tiles in the same attractor share its colour; the full run id is in the tooltip, not cut on the tile.
    const colour = (suffix: string) => page.$eval(`#grid .cell[data-run-id$="${suffix}"]`, (e) => getComputedStyle(e).borderLeftColor);
    expect(await colour('01')).toBe(await colour('04'));
    expect(await colour('01')).not.toBe(await colour('02'));
    expect(await page.$eval('#grid .cell[data-run-id$="01"]', (e) => (e as HTMLElement).title)).toContain('20261201T220001Z-night-aaaa01');
    await page.locator('#grid-legend', { hasText: 'spiritual-bliss (2 entered)' }).waitFor();
    // A run enters a second attractor, and another its first, while the grid is open: both tiles show it.
    appendFileSync(join(batch, '20261201T220001Z-night-aaaa01', 'events.jsonl'), line({ seq: 15, runId: '20261201T220001Z-night-aaaa01', type: 'attractor.entered', attractor: 'repetition', turn: 12, score: 0.9, evidence: {} }));
    appendFileSync(join(batch, '20261201T220001Z-night-aaaa03', 'events.jsonl'), line({ seq: 33, runId: '20261201T220001Z-night-aaaa03', type: 'attractor.entered', attractor: 'repetition', turn: 30, score: 0.9, evidence: {} }));
    await page.locator('#grid .cell[data-run-id$="03"] .onset-chip', { hasText: 'repetition @30' }).waitFor();
    await page.locator('#grid .cell[data-run-id$="01"] .onset-chip', { hasText: 'repetition @12' }).waitFor();
    expect(await page.$$eval('#grid .cell[data-run-id$="01"] .onset-chip', (els) => els.map((e) => e.textContent))).toEqual(['spiritual-bliss @12', 'repetition @12']);
    if (process.env['ARENA_SCREENSHOTS']) await page.screenshot({ path: join(process.env['ARENA_SCREENSHOTS'], 'batch-matrix.png') });
    await page.click('#grid .cell[data-run-id$="02"]');
    await page.locator('#run-title', { hasText: '20261201T220001Z-night-aaaa02' }).waitFor();
    await page.locator('li.turn[data-turn="9"]', { hasText: 'aaaa02 turn 9' }).waitFor();
    expect(errors).toEqual([]);
  });

  it('lays out batch runs without a matrix cell (older logs) in one row', async () => {
    const batch = join(runsDir, 'old-batch');
    diskRun(join(batch, 'run-01'), 'run-01', 12, 'spiritual-bliss');
    diskRun(join(batch, 'run-02'), 'run-02', 9);
    const { page, errors } = await open(`${viewer.url}&view=grid`);
    await page.locator('#grid .cell').nth(1).waitFor();
    expect(await page.$$eval('#grid tbody tr', (trs) => trs.length)).toBe(1);
    expect(await page.$$eval('#grid .cell', (els) => els.map((e) => (e as HTMLElement).dataset['runId']))).toEqual(['run-01', 'run-02']);
    expect(await page.locator('#grid .cell[data-run-id="run-01"] .onset-chip').textContent()).toBe('spiritual-bliss @12');
    expect(errors).toEqual([]);
  });

  it('follows a run another process is writing, without a reload', async () => {
    const path = diskRun(join(runsDir, 'elsewhere'), 'elsewhere', 2, undefined, false);
    const { page, errors } = await open(viewer.url);
    await page.locator('li.turn[data-turn="2"]').waitFor();
    expect(await page.locator('#controls button[data-cmd="pause"]').isDisabled()).toBe(true);
    appendFileSync(path, line({ seq: 4, runId: 'elsewhere', type: 'turn.completed', turn: 3, agentId: 'a', text: 'written by the other process', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 }, costUsd: 0, latencyMs: 1, attempts: 1 }));
    await page.locator('li.turn[data-turn="3"]', { hasText: 'written by the other process' }).waitFor();
    expect(errors).toEqual([]);
  });
});
