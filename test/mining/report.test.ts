import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
    expect(html).not.toMatch(/<script|<link|<img|\bsrc=|@import|url\((?!#)/i); // url(#…): a gradient in the same SVG
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;co');
    // the incidence matrix, survival for bliss (loop was scored but never entered: a note instead),
    // mean drift, and the heatmaps of bliss and loop
    expect(html.match(/<svg /g)).toHaveLength(5);
    expect(html).toContain('loop: no run of any condition entered it');
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
      const figureText = (label: string) => page.locator(`figure[aria-label^="${label}"] svg text`).allTextContents();
      // Survival: a curve per condition, named with what entered and the median onset, and a band.
      const survival = await figureText('bliss: share of runs not yet');
      expect(survival).toEqual(expect.arrayContaining([`free · m1 × m2 — 4/6 entered, median onset 6`, `${EVIL} · m1 × m2 — 1/6 entered, median onset not reached`]));
      expect(await page.locator('figure[aria-label^="bliss: share of runs not yet"] g.mark-area path').count()).toBeGreaterThan(0);
      // Drift: one line per condition.
      expect(await page.locator('figure[aria-label^="Mean drift"] g.mark-line path').count()).toBe(2);
      // Heatmap: only the "free" runs score "loop" (at each of their 12 turns).
      expect(await page.locator('figure[aria-label^="loop score"] g.cells_marks path').count()).toBe(6 * 12);
      expect(await page.locator('figure[aria-label^="bliss score"] g.onsets_marks path').count()).toBe(5);
      // Incidence matrix: count, share and interval per cell; "loop" was scored for the free runs but never
      // entered (0 of 6), and the other condition never scored it.
      const incidence = await figureText('Attractor incidence per condition');
      expect(incidence).toEqual(expect.arrayContaining(['4/6 · 66.7%', '1/6 · 16.7%', '0/6 · 0%']));
      // The page uses its width: the widest figure is over 900 px at a 1,400 px window.
      const wordRows = await page.locator('table tr', { hasText: 'consciousness' }).evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => td.textContent)));
      // Groups sort by key: the escaped-name group (no such word) first, then "free" (8 uses in each of 6 runs).
      expect(wordRows).toEqual([['consciousness', '0.0', '0.0%', '0'], ['consciousness', '8.0', '100.0%', '8']]);
      await page.setViewportSize({ width: 1400, height: 1000 });
      const box = await page.locator('figure[aria-label^="bliss: share of runs not yet"] svg').boundingBox();
      expect(box!.width).toBeGreaterThan(900);
      // Nothing overflows the page sideways.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/report.png', fullPage: true });
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
