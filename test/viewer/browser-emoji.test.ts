import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startViewer } from '../../src/viewer/server.js';
import { FakeRun } from './_fake-run.js';
import { launchChromium, openPage, skipBrowserTests } from './_browser.js';

/** A colour emoji font is installed (`.ci/run` installs fonts-noto-color-emoji). */
function emojiFontInstalled(): boolean {
  try {
    return /emoji/i.test(execFileSync('fc-list', [':', 'family'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

// Attractor transcripts are full of 🌀 ✨ 🙏: screenshots and users must see them, not empty boxes. On a
// developer machine without the font this is skipped; under CI the font must be there.
const skip = skipBrowserTests || (process.env['CI'] !== 'true' && !emojiFontInstalled());

describe.skipIf(skip)('viewer in Chromium: emoji', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('draws the emoji of a turn in colour, in the page’s own font stack', async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'viewer-emoji-'));
    const viewer = await startViewer({ runsDir, port: 0 });
    try {
      const run = new FakeRun(runsDir, 'emoji-run');
      viewer.attach(run);
      run.start();
      await run.turn('a', '🌀 ✨ 🙏');
      const { page, errors } = await openPage(browser, viewer.url);
      const text = page.locator('li.turn .turn-text', { hasText: '🌀' });
      await text.waitFor();
      // Draw the turn's first character with the font the turn is shown in, and count coloured pixels:
      // a missing glyph comes out as a box in the (grey) text colour.
      const coloured = await text.evaluate((node) => {
        const canvas = document.createElement('canvas');
        canvas.width = 80;
        canvas.height = 80;
        const ctx = canvas.getContext('2d')!;
        ctx.font = `56px ${getComputedStyle(node).fontFamily}`;
        ctx.fillStyle = '#333';
        ctx.fillText('🌀', 4, 64);
        const data = ctx.getImageData(0, 0, 80, 80).data;
        let n = 0;
        for (let i = 0; i < data.length; i += 4) {
          const [r, g, b, a] = [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
          if (a > 128 && Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
        }
        return n;
      });
      expect(coloured).toBeGreaterThan(200);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await viewer.close();
      rmSync(runsDir, { recursive: true, force: true });
    }
  });
});
