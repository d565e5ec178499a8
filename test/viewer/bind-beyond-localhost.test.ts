import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startViewer, type Viewer } from '../../src/viewer/server.js';
import { FakeRun } from './_fake-run.js';
import { wsUrl } from './_ws-client.js';
import { launchChromium, openPage, skipBrowserTests } from './_browser.js';

// A viewer bound to every interface (`--host 0.0.0.0`) is reachable by anyone on the network: reading the
// transcripts must need the token there, and the Host and Origin checks must stay on.

let runsDir: string;
let viewer: Viewer;
let run: FakeRun;

beforeEach(async () => {
  runsDir = mkdtempSync(join(tmpdir(), 'viewer-bind-'));
  viewer = await startViewer({ runsDir, host: '0.0.0.0', port: 0, token: 'the-secret-token-123', pollMs: 50, scanIntervalMs: 100, pushIntervalMs: 20 });
  run = new FakeRun(runsDir, 'private-run');
  viewer.attach(run);
  run.start();
  await run.turn('a', 'a confidential sentence');
});

afterEach(async () => {
  await viewer.close();
  rmSync(runsDir, { recursive: true, force: true });
});

/** Try a WebSocket upgrade; the HTTP status the server answered (101 when it let the socket open). */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<{ status: number; ws: WebSocket }> {
  const ws = new WebSocket(url, { headers });
  ws.on('error', () => undefined);
  return new Promise((resolve) => {
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, ws });
    });
    ws.on('open', () => resolve({ status: 101, ws }));
  });
}

/** This machine's first non-loopback IPv4 address, if it has one. */
function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

describe('a viewer bound beyond localhost', () => {
  it('refuses a WebSocket with a foreign Host and Origin, even with the token', async () => {
    const foreign = { host: `attacker.example:${viewer.port}`, origin: `http://attacker.example:${viewer.port}` };
    const withToken = await upgradeStatus(`${wsUrl(viewer.baseUrl)}?token=the-secret-token-123`, foreign);
    expect(withToken.status).toBe(403);
    withToken.ws.terminate();
    const without = await upgradeStatus(wsUrl(viewer.baseUrl), foreign);
    expect(without.status).toBe(403);
    without.ws.terminate();
    // The page itself is refused to a foreign Host too (DNS rebinding).
    const page = await new Promise<number>((resolve, reject) => {
      const req = request(viewer.baseUrl, { headers: { host: `attacker.example:${viewer.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(page).toBe(403);
  });

  it('refuses another site’s page that reaches it under the right Host', async () => {
    const url = `${wsUrl(viewer.baseUrl)}?token=the-secret-token-123`;
    const res = await upgradeStatus(url, { origin: 'http://evil.example' });
    expect(res.status).toBe(403);
    res.ws.terminate();
  });

  it('lets nobody read without the token, and a token holder read the transcript', async () => {
    const none = await upgradeStatus(wsUrl(viewer.baseUrl));
    expect(none.status).toBe(401);
    none.ws.terminate();
    const wrong = await upgradeStatus(`${wsUrl(viewer.baseUrl)}?token=not-the-token`);
    expect(wrong.status).toBe(401);
    wrong.ws.terminate();

    const ws = new WebSocket(`${wsUrl(viewer.baseUrl)}?token=the-secret-token-123`);
    const texts: string[] = [];
    const got = new Promise<void>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { type: string; events?: { type: string; text?: string }[] };
        if (msg.type === 'hello') ws.send(JSON.stringify({ type: 'subscribe', runs: [{ runId: 'private-run' }] }));
        for (const e of msg.events ?? []) if (e.type === 'turn.completed' && e.text) texts.push(e.text);
        if (msg.type === 'replayed') resolve();
      });
    });
    await got;
    expect(texts).toEqual(['a confidential sentence']);
    ws.terminate();
  });

  it('answers to this machine’s own addresses, with the token', async () => {
    const address = lanAddress();
    if (!address) return; // a machine with loopback only has nothing more to check here
    const url = `ws://${address}:${viewer.port}/ws?token=the-secret-token-123`;
    const res = await upgradeStatus(url, { origin: `http://${address}:${viewer.port}` });
    expect(res.status).toBe(101);
    res.ws.terminate();
  });
});

describe('a viewer on localhost (the default)', () => {
  it('still lets a local page read without the token', async () => {
    const local = await startViewer({ runsDir, port: 0 });
    try {
      const res = await upgradeStatus(wsUrl(local.baseUrl));
      expect(res.status).toBe(101);
      res.ws.terminate();
    } finally {
      await local.close();
    }
  });
});

describe.skipIf(skipBrowserTests)('a viewer bound beyond localhost, in Chromium', () => {
  it('shows the run to the page opened with the printed address, and tells a page without the token why it sees nothing', async () => {
    const browser = await launchChromium();
    try {
      const withToken = await openPage(browser, viewer.url);
      await withToken.page.locator('li.turn', { hasText: 'a confidential sentence' }).waitFor();
      expect(withToken.errors).toEqual([]);
      const without = await openPage(browser, viewer.baseUrl);
      await without.page.locator('#link', { hasText: 'this viewer may need the address with ?token=' }).waitFor();
      expect(await without.page.locator('li.turn').count()).toBe(0);
      expect(await without.page.locator('#run-list').textContent()).not.toContain('private-run');
    } finally {
      await browser.close();
    }
  });
});
