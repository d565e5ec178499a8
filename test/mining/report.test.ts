import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIO, lastJson, writeRun } from './_runs.js';

const CHROMIUM = '/usr/bin/chromium';
const EVIL = '<script>alert("x")</script>&co';

let dir: string;
let html: string;
const out = () => join(dir, 'report.html');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'report-'));
  for (let i = 0; i < 6; i++) {
    writeRun(join(dir, 'runs'), {
      runId: `a-${i}`,
      scenario: 'free',
      turns: 12,
      ...(i < 4 ? { entered: { bliss: 4 + i } } : {}),
      scores: (t) => ({ bliss: i < 4 && t >= 4 + i ? 0.9 : 0.1, loop: 0.3 }),
      drift: (t) => t / 12,
      texts: Array.from({ length: 12 }, (_, t) => (t % 3 ? 'consciousness 🌀' : 'hello')),
    });
    writeRun(join(dir, 'runs'), { runId: `b-${i}`, scenario: EVIL, turns: 8, ...(i === 0 ? { entered: { bliss: 7 } } : {}), scores: () => ({ bliss: 0.2 }), drift: (t) => t / 24 });
  }
  const { io, out: stdout } = captureIO(dir);
  expect(await main(['report', 'runs', '--out', 'report.html', '--words', 'consciousness', '--emoji', '--json'], io)).toBe(0);
  expect(lastJson(stdout())).toEqual({ out: out(), runs: 12, groups: 2, source: 'detector', agreement: [], forks: 0 });
  html = readFileSync(out(), 'utf8');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('arena report', () => {
  it('is one self-contained file: no scripts, no external assets, transcript text escaped', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|\bsrc=|@import|url\(/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;co');
    // incidence and survival for bliss and for loop (scored, never entered) + drift (1) + heatmaps (bliss, loop)
    expect(html.match(/<svg /g)).toHaveLength(7);
  });

  it('renders in Chromium offline with the charts and tables a reader expects', async (ctx) => {
    if (!existsSync(CHROMIUM) && process.env['CI'] !== 'true') ctx.skip();
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(out()).href);
      expect(requests).toEqual([pathToFileURL(out()).href]);
      expect(errors).toEqual([]);
      const headings = await page.locator('h3').allTextContents();
      expect(headings).toContain(`${EVIL} · m1 × m2`);
      // Survival curves: one step line per condition; drift: one line per condition.
      expect(await page.locator('svg[aria-label="bliss: not yet entered"] polyline').count()).toBe(2);
      expect(await page.locator('svg[aria-label^="mean drift"] polyline').count()).toBe(2);
      // Heatmap: only the "free" runs score "loop" (0.3 at each of their 12 turns).
      const loopCells = await page.locator('svg[aria-label^="loop score"] rect[fill="#b3003c"]').count();
      expect(loopCells).toBe(6 * 12);
      const incidence = await page.locator('svg[aria-label^="bliss: share"] text').allTextContents();
      expect(incidence).toEqual(expect.arrayContaining(['4/6', '1/6']));
      // "loop" was scored by the analysis of the free runs but never entered: 0 of 6 analysed runs, in both groups.
      expect(await page.locator('svg[aria-label^="loop: share"] text').allTextContents()).toEqual(expect.arrayContaining(['0/6']));
      const wordRows = await page.locator('table tr', { hasText: 'consciousness' }).evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => td.textContent)));
      // Groups sort by key: the escaped-name group (no such word) first, then "free" (8 uses in each of 6 runs).
      expect(wordRows).toEqual([['consciousness', '0.0', '0.0%', '0'], ['consciousness', '8.0', '100.0%', '8']]);
      const box = await page.locator('svg').first().boundingBox();
      expect(box!.width).toBeGreaterThan(300);
    } finally {
      await browser.close();
    }
  });

  it('needs --out', async () => {
    const { io, err } = captureIO(dir);
    expect(await main(['report', 'runs'], io)).toBe(2);
    expect(err()).toContain('--out');
  });
});
