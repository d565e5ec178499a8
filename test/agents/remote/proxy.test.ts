import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from '../../../src/agents/create-agent.js';
import { AgentSpecSchema } from '../../../src/agents/spec.js';
import { providerFetch, proxyFor, proxySettings, type Transport } from '../../../src/agents/remote/provider-fetch.js';
import { InputError } from '../../../src/errors.js';
import { createEmbedder } from '../../../src/analysis/create-embedder.js';
import { fakeServer, type FakeServer } from '../_fake-server.js';
import { anthropicFrames, anthropicReply, ollamaChatReply, openAIChatReply } from '../_wire.js';
import { ALICE, BOB, collect, errors, everything, finalText, say, streamOptions, testDeps } from '../_harness.js';
import { logLines, onlyRunDir, runCli } from '../../helpers/cli.js';
import { testProxy } from '../../helpers/proxy.js';
import { tempDir } from '../../helpers/tmp-dir.js';

const PROXY_PASSWORD = 'pr0xy-PASS-canary';
const CREDENTIALS = `researcher:${PROXY_PASSWORD}`;

/** One agent of each SDK family, pointed at `server`. */
const BACKENDS = {
  openai: {
    spec: { backend: 'openai', model: 'gpt-4o' },
    env: (server: FakeServer) => ({ OPENAI_API_KEY: 'sk-proj-proxy-test', OPENAI_BASE_URL: `${server.url}/v1` }),
    reply: openAIChatReply,
    path: '/v1/chat/completions',
  },
  anthropic: {
    spec: { backend: 'anthropic', model: 'claude-opus-4-5' },
    env: (server: FakeServer) => ({ ANTHROPIC_API_KEY: 'sk-ant-proxy-test', ANTHROPIC_BASE_URL: server.url }),
    reply: anthropicReply,
    path: '/v1/messages',
  },
  ollama: {
    spec: { backend: 'ollama', model: 'llama3.2' },
    env: (server: FakeServer) => ({ OLLAMA_HOST: server.url }),
    reply: ollamaChatReply,
    path: '/api/chat',
  },
} as const;

async function turnThrough(kind: keyof typeof BACKENDS, env: Record<string, string>, server: FakeServer, extra: { fetch?: typeof fetch; maxRetries?: number } = {}) {
  const b = BACKENDS[kind];
  const deps = testDeps({ ...b.env(server), ...env }, extra.fetch ? { fetch: extra.fetch } : {});
  const spec = AgentSpecSchema.parse({ id: 'bob', name: 'Bob', persona: 'You are Bob.', maxRetries: extra.maxRetries ?? 0, timeoutMs: 3000, ...b.spec });
  const agent = await createAgent(spec, deps);
  const parts = await collect(agent.stream(streamOptions({ self: BOB, transcript: [say(1, ALICE, 'Hello?')], turn: 2 })));
  return { parts, lines: deps.lines };
}

describe('provider requests behind a proxy', () => {
  for (const kind of Object.keys(BACKENDS) as (keyof typeof BACKENDS)[]) {
    it(`${kind}: HTTP_PROXY carries the request to the provider, with the proxy's credentials and never a trace of them`, async () => {
      const server = await fakeServer();
      const proxy = await testProxy({ credentials: CREDENTIALS });
      server.queue(BACKENDS[kind].reply(['through ', 'the proxy']));
      const { parts, lines } = await turnThrough(kind, { HTTP_PROXY: proxy.url }, server);
      expect(errors(parts)).toEqual([]);
      expect(finalText(parts)).toBe('through the proxy');
      expect(proxy.requests).toEqual([{ method: 'POST', target: `${server.url}${BACKENDS[kind].path}`, credentials: CREDENTIALS }]);
      expect(server.requests.map((r) => r.path)).toEqual([BACKENDS[kind].path]);
      expect(server.requests[0]!.headers['proxy-authorization']).toBeUndefined();
      expect(everything(parts, lines)).not.toContain(PROXY_PASSWORD);
    });
  }

  for (const transport of ['node-http', 'undici'] as Transport[]) {
    it(`NO_PROXY names the local server: requests skip the proxy (${transport} transport)`, async () => {
      const server = await fakeServer();
      const proxy = await testProxy();
      const env = { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: 'example.org, 127.0.0.1' };
      server.queue(openAIChatReply(['straight']));
      const { parts } = await turnThrough('openai', env, server, { fetch: providerFetch(env, transport) });
      expect(finalText(parts)).toBe('straight');
      expect(proxy.requests).toEqual([]);
      expect(server.requests).toHaveLength(1);
    });

    it(`both transports send a proxied request through the proxy (${transport})`, async () => {
      const server = await fakeServer();
      const proxy = await testProxy();
      const env = { http_proxy: proxy.url };
      server.queue(ollamaChatReply(['via']));
      const { parts } = await turnThrough('ollama', env, server, { fetch: providerFetch(env, transport) });
      expect(finalText(parts)).toBe('via');
      expect(proxy.requests.map((r) => r.target)).toEqual([`${server.url}/api/chat`]);
    });
  }

  it('embeddings for analysis take the same proxy', async () => {
    const server = await fakeServer();
    const proxy = await testProxy();
    server.queue({ kind: 'status', status: 200, json: { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.6, 0.8] }], model: 'e', usage: { prompt_tokens: 1, total_tokens: 1 } } });
    const embedder = createEmbedder({ kind: 'openai', env: { OPENAI_BASE_URL: `${server.url}/v1`, OPENAI_API_KEY: 'sk-e', HTTP_PROXY: proxy.url } })!;
    const [vector] = await embedder.embed(['hello']);
    expect([...vector!].map((x) => Number(x.toFixed(2)))).toEqual([0.6, 0.8]);
    expect(proxy.requests.map((r) => r.target)).toEqual([`${server.url}/v1/embeddings`]);
    await embedder.close();
  });

  it('a proxy that is down: the turn fails with an error naming the proxy and its variable, without its password', async () => {
    const server = await fakeServer();
    // A port that was just free: nothing listens there.
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const { parts, lines } = await turnThrough('anthropic', { HTTP_PROXY: `http://${CREDENTIALS}@127.0.0.1:${closed}` }, server);
    const errs = errors(parts);
    expect(errs.at(-1)).toMatchObject({ willRetry: false });
    expect(errs.at(-1)!.message).toContain(`through the proxy http://127.0.0.1:${closed} (HTTP_PROXY)`);
    expect(errs.at(-1)!.message).toMatch(/ECONNREFUSED/);
    expect(server.requests).toEqual([]);
    expect(everything(parts, lines)).not.toContain(PROXY_PASSWORD);
    expect(everything(parts, lines)).not.toContain('researcher');
  });

  it('a proxy that wants other credentials: the error says so and names the proxy', async () => {
    const server = await fakeServer();
    const proxy = await testProxy({ credentials: CREDENTIALS });
    const wrong = proxy.url.replace(PROXY_PASSWORD, 'not-the-PASSWORD');
    const { parts, lines } = await turnThrough('openai', { HTTP_PROXY: wrong }, server);
    const message = errors(parts).at(-1)!.message;
    expect(message).toContain(`through the proxy ${proxy.url.replace(`${CREDENTIALS}@`, '')} (HTTP_PROXY)`);
    expect(message).toContain('407');
    expect(server.requests).toEqual([]);
    expect(everything(parts, lines)).not.toContain('not-the-PASSWORD');

    // The same proxy refusing the CONNECT tunnel of an https request.
    const tunnel = await providerFetch({ HTTPS_PROXY: wrong })('https://127.0.0.1:8443/v1/messages', { method: 'POST', body: '{}' }).catch((e: unknown) => e);
    expect(tunnel).toMatchObject({ message: 'fetch failed' });
    const cause = String((tunnel as Error).cause);
    expect(cause).toContain(`through the proxy ${proxy.url.replace(`${CREDENTIALS}@`, '')} (HTTPS_PROXY)`);
    expect(cause).toContain('407');
    expect(cause).not.toContain('not-the-PASSWORD');
    expect(proxy.requests.at(-1)).toMatchObject({ method: 'CONNECT', target: '127.0.0.1:8443' });
  });

  it('a proxy variable that is not a URL stops the agent before any request, without repeating the value', async () => {
    const server = await fakeServer();
    const err = await turnThrough('openai', { HTTPS_PROXY: 'http://user:se cret@[bad' }, server).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^HTTPS_PROXY is not a proxy URL/);
    expect((err as Error).message).not.toContain('se cret');
    expect(() => proxySettings({ HTTP_PROXY: 'socks5://127.0.0.1:1080' })).toThrow(/HTTP_PROXY: proxies of scheme socks5: are not supported/);
  });
});

describe('which proxy a URL takes', () => {
  const at = (url: string, env: Record<string, string>) => proxyFor(new URL(url), proxySettings(env))?.name;

  it('https URLs take HTTPS_PROXY (else HTTP_PROXY), http URLs HTTP_PROXY; the lower-case variable wins', () => {
    const env = { HTTPS_PROXY: 'http://secure:3128', HTTP_PROXY: 'plain:8080' };
    expect(at('https://api.anthropic.com/v1/messages', env)).toBe('http://secure:3128');
    expect(at('http://10.0.0.5:8000/v1', env)).toBe('http://plain:8080');
    expect(at('https://api.openai.com/v1', { HTTP_PROXY: 'http://plain:8080' })).toBe('http://plain:8080');
    expect(at('http://10.0.0.5:8000/v1', { HTTPS_PROXY: 'http://secure:3128' })).toBeUndefined();
    expect(at('https://api.openai.com/v1', { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' })).toBe('http://lower:1');
    expect(at('https://api.openai.com/v1', {})).toBeUndefined();
  });

  it('NO_PROXY: hosts, domains with or without a leading dot or *., ports, and * for everything', () => {
    const env = (noProxy: string) => ({ HTTPS_PROXY: 'http://p:3128', HTTP_PROXY: 'http://p:3128', no_proxy: noProxy });
    expect(at('http://127.0.0.1:11434/api/chat', env('localhost,127.0.0.1'))).toBeUndefined();
    expect(at('http://localhost:11434', env('localhost 127.0.0.1'))).toBeUndefined();
    expect(at('https://gpu7.lab.example.edu/v1', env('.example.edu'))).toBeUndefined();
    expect(at('https://gpu7.lab.example.edu/v1', env('*.example.edu'))).toBeUndefined();
    expect(at('https://example.edu/v1', env('example.edu'))).toBeUndefined();
    expect(at('https://notexample.edu/v1', env('example.edu'))).toBe('http://p:3128');
    expect(at('http://10.1.2.3:8000/v1', env('10.1.2.3:9000'))).toBe('http://p:3128');
    expect(at('http://10.1.2.3:8000/v1', env('10.1.2.3:8000'))).toBeUndefined();
    expect(at('https://api.anthropic.com', env('api.anthropic.com:443'))).toBeUndefined();
    expect(at('http://[::1]:11434/api/chat', env('::1'))).toBeUndefined();
    expect(at('http://[::1]:11434/api/chat', env('[::1]:11434'))).toBeUndefined();
    expect(at('http://[::1]:8000/v1', env('[::1]:11434'))).toBe('http://p:3128');
    expect(at('https://api.openai.com/v1', env('*'))).toBeUndefined();
  });
});

describe('HTTPS_PROXY end to end', () => {
  const tls = join(import.meta.dirname, '..', '..', 'fixtures', 'tls');
  const closers: (() => void)[] = [];
  afterEach(() => closers.splice(0).forEach((c) => c()));

  it('`arena run` with HTTPS_PROXY reaches an https provider through a CONNECT tunnel, and the proxy password is nowhere', async () => {
    const received: string[] = [];
    const provider = createServer({ cert: readFileSync(join(tls, 'cert.pem')), key: readFileSync(join(tls, 'key.pem')) }, (req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(`${req.method} ${req.url}`);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(anthropicFrames(['over ', 'TLS']).join(''));
      });
    });
    await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
    closers.push(() => provider.close());
    provider.on('connection', (s) => closers.push(() => s.destroy()));
    const port = (provider.address() as AddressInfo).port;
    const proxy = await testProxy({ credentials: CREDENTIALS });

    const dir = tempDir();
    const scenario = join(dir, 'scenario.yaml');
    writeFileSync(
      scenario,
      `name: proxied
agents:
  - { id: claude, name: Claude, backend: anthropic, model: claude-opus-4-5, persona: You are Claude. }
  - { id: echo, name: Echo, backend: scripted, generator: { kind: echo } }
limits: { maxTurns: 3 }
`,
    );
    const runsDir = join(dir, 'runs');
    const res = await runCli(['run', scenario, '--no-view', '--runs-dir', runsDir, '--quiet'], {
      cwd: dir,
      env: {
        ANTHROPIC_API_KEY: 'sk-ant-e2e-proxy',
        ANTHROPIC_BASE_URL: `https://127.0.0.1:${port}`,
        HTTPS_PROXY: proxy.url,
        // The institution's certificate, as users behind an inspecting proxy add it.
        NODE_EXTRA_CA_CERTS: join(tls, 'cert.pem'),
      },
    });
    expect(res.stderr).not.toContain(PROXY_PASSWORD);
    expect(res.code).toBe(0);
    expect(received).toEqual(['POST /v1/messages', 'POST /v1/messages']);
    // Every request went through a tunnel to the provider, opened with the proxy's credentials.
    expect(proxy.requests.length).toBeGreaterThan(0);
    for (const r of proxy.requests) expect(r).toEqual({ method: 'CONNECT', target: `127.0.0.1:${port}`, credentials: CREDENTIALS });
    const events = logLines(join(onlyRunDir(runsDir), 'events.jsonl'));
    const texts = events.flatMap((e) => (e.type === 'turn.completed' && e.agentId === 'claude' ? [e.text] : []));
    expect(texts).toEqual(['over TLS', 'over TLS']);
    expect(JSON.stringify(events) + res.stdout + res.stderr).not.toContain(PROXY_PASSWORD);
  });
});
