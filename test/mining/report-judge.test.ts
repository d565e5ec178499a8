import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { writeJudgedRuns } from './_judged-runs.js';
import { captureIO, lastJson } from './_runs.js';

const CHROMIUM = '/usr/bin/chromium';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'report-judge-'));
  writeJudgedRuns(join(dir, 'runs'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function report(name: string, ...args: string[]): Promise<{ html: string; json: unknown }> {
  const { io, out, err } = captureIO(dir);
  expect(await main(['report', 'runs', '--by', 'none', '--out', name, ...args, '--json'], io), err()).toBe(0);
  return { html: readFileSync(join(dir, name), 'utf8'), json: lastJson(out()) };
}

describe('arena report with judgements', () => {
  it("says it counts the detectors by default and shows every judge's agreement with them", async () => {
    const { html, json } = await report('detector.html');
    expect(json).toMatchObject({ runs: 10, groups: 1, source: 'detector', agreement: ['openai:gpt-4o', 'openai:gpt-4o-mini'] });
    expect(html).toContain('<strong>Attractor verdicts:</strong> the detectors&#39; analysis in the logs.');
    expect(html).toContain('<section id="agreement">');
    expect(html.match(/<h3>openai:gpt-4o(-mini)?<\/h3>/g)).toEqual(['<h3>openai:gpt-4o</h3>', '<h3>openai:gpt-4o-mini</h3>']);
    // The detectors' incidence: 6 of 10 analysed runs entered bliss.
    expect(html).toContain('>6/10<');
  });

  it("counts the judge's verdicts with --source judge, says so, and shows the left-out runs and that judge's κ table", async () => {
    const { html, json } = await report('judge.html', '--source', 'judge', '--judge', 'openai:gpt-4o-mini');
    expect(json).toMatchObject({ source: 'judge', judge: { backend: 'openai', model: 'gpt-4o-mini' }, agreement: ['openai:gpt-4o-mini'] });
    expect(html).toContain('<strong>Attractor verdicts:</strong> the judge openai:gpt-4o-mini (its judgement events). A run whose judgement is missing, failed');
    expect(html).toContain('>5/7<');
    expect(html).toContain('<th>left out (no verdict)</th>');
    expect(html).toContain('<tr><td>bliss</td><td>7</td><td>4</td><td>1</td><td>1</td><td>1</td><td>71.4%</td><td>0.30</td><td>-0.47 – 1.00</td><td>3</td></tr>');
    expect(html).toContain('<td>undefined</td><td>– (the detectors said absent for every run)</td>');
    expect(html).not.toMatch(/NaN/);
  });

  it('renders the agreement table in Chromium (screenshot in test-artifacts/report-agreement.png)', async (ctx) => {
    if (!existsSync(CHROMIUM) && process.env['CI'] !== 'true') ctx.skip();
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      await page.goto(pathToFileURL(join(dir, 'judge.html')).href);
      const section = page.locator('#agreement');
      expect(await section.locator('th').allTextContents()).toEqual(['attractor', 'n', 'both present', 'judge only', 'detectors only', 'both absent', 'agreement', 'κ', '95% CI', 'left out']);
      const rows = await section.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)));
      expect(rows).toEqual([
        ['bliss', '7', '4', '1', '1', '1', '71.4%', '0.30', '-0.47 – 1.00', '3'],
        ['farewell', '6', '0', '1', '0', '5', '83.3%', 'undefined', '– (the detectors said absent for every run)', '4'],
      ]);
      expect(await page.locator('#source').textContent()).toContain('the judge openai:gpt-4o-mini');
      mkdirSync('test-artifacts', { recursive: true });
      await section.screenshot({ path: join('test-artifacts', 'report-agreement.png') });
    } finally {
      await browser.close();
    }
  });
});
