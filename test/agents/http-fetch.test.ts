import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { httpFetch } from '../../src/agents/remote/http-fetch.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
});

/** A local server; `connections` counts the TCP connections it accepted. */
async function serve(handler: Handler): Promise<{ url: string; connections: () => number; server: Server }> {
  let connections = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => handler(req, res, body));
  });
  server.on('connection', () => connections++);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, server };
}

describe('httpFetch (the fetch handed to provider SDKs)', () => {
  it('sends method, headers and body, and returns status, headers and body as fetch does', async () => {
    const { url } = await serve((req, res, body) => {
      res.writeHead(201, 'Made', { 'content-type': 'application/json', 'x-echo': String(req.headers['x-key']) });
      res.end(JSON.stringify({ method: req.method, body, type: req.headers['content-type'], length: req.headers['content-length'] }));
    });
    const res = await httpFetch(`${url}/v1/thing`, { method: 'post', headers: { 'content-type': 'application/json', 'x-key': 'k1' }, body: '{"a":"é"}' });
    expect(res.status).toBe(201);
    expect(res.statusText).toBe('Made');
    expect(res.ok).toBe(true);
    expect(res.headers.get('x-echo')).toBe('k1');
    expect(res.url).toBe(`${url}/v1/thing`);
    expect(await res.json()).toEqual({ method: 'POST', body: '{"a":"é"}', type: 'application/json', length: '10' });
  });

  it('streams the body as it arrives, and keeps one connection for requests made one after another', async () => {
    let release: () => void = () => {};
    const { url, connections } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      release = () => res.end('data: [DONE]\n\n');
    });
    const res = await httpFetch(url, { method: 'POST', body: '{}' });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: first\n\n');
    release();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: [DONE]\n\n');
    expect((await reader.read()).done).toBe(true);
    for (let i = 0; i < 4; i++) {
      const next = await httpFetch(url, { method: 'POST', body: '{}' });
      const text = next.text();
      release();
      await text;
    }
    expect(connections()).toBe(1);
  });

  it('errors the body when the connection is cut mid-response, never ends it early', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: partial\n\n', () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const res = await httpFetch(url, { method: 'POST', body: '{}' });
    await expect(res.text()).rejects.toThrow(/terminated/);
  });

  it('rejects with the signal reason when aborted before the response, and errors the body when aborted during it', async () => {
    const { url } = await serve((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
      res.writeHead(200);
      res.write('some');
    });
    const early = new AbortController();
    const pending = httpFetch(`${url}/slow`, { signal: early.signal });
    early.abort(new Error('stop now'));
    await expect(pending).rejects.toThrow('stop now');

    const late = new AbortController();
    const res = await httpFetch(url, { signal: late.signal });
    const reading = res.text();
    late.abort();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    await expect(httpFetch(url, { signal: late.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('decodes a gzip body, follows redirects (307 keeps the POST, 303 turns it into a GET), and gives 204 no body', async () => {
    const { url } = await serve((req, res, body) => {
      if (req.url === '/gz') {
        res.writeHead(200, { 'content-encoding': 'gzip' });
        return void res.end(gzipSync('squeezed text'));
      }
      if (req.url === '/keep') return void res.writeHead(307, { location: '/echo' }).end();
      if (req.url === '/see') return void res.writeHead(303, { location: '/echo' }).end();
      if (req.url === '/none') return void res.writeHead(204).end();
      res.end(`${req.method} ${body}`);
    });
    expect(await (await httpFetch(`${url}/gz`)).text()).toBe('squeezed text');
    const kept = await httpFetch(`${url}/keep`, { method: 'POST', body: 'payload' });
    expect(kept.redirected).toBe(true);
    expect(await kept.text()).toBe('POST payload');
    expect(await (await httpFetch(`${url}/see`, { method: 'POST', body: 'payload' })).text()).toBe('GET ');
    const manual = await httpFetch(`${url}/keep`, { method: 'POST', body: 'x', redirect: 'manual' });
    expect(manual.status).toBe(307);
    const none = await httpFetch(`${url}/none`);
    expect(none.status).toBe(204);
    expect(none.body).toBeNull();
  });

  it('reports a refused connection as the built-in fetch does: TypeError fetch failed, with the cause', async () => {
    const { url, server } = await serve((_req, res) => res.end());
    await new Promise((r) => server.close(r));
    const err = await httpFetch(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(err).toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNREFUSED' } });
  });

  it('opens a new connection when the server closed the idle one', async () => {
    const { url, server, connections } = await serve((_req, res) => res.end('ok'));
    expect(await (await httpFetch(url)).text()).toBe('ok');
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 50));
    expect(await (await httpFetch(url)).text()).toBe('ok');
    expect(connections()).toBe(2);
  });

  it('does not send a POST again when a reused connection is reset after the server got it', async () => {
    let posts = 0;
    const { url } = await serve((req, res) => {
      if (req.method !== 'POST') return void res.end('warm');
      posts++;
      // The server took the request, then its connection died: sending it again would bill it twice.
      setTimeout(() => req.socket.destroy(), 20);
    });
    expect(await (await httpFetch(`${url}/warm`)).text()).toBe('warm');
    const err = await httpFetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{}' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNRESET' } });
    expect(posts).toBe(1);
  });

  it('drops credentials on a redirect to another origin and rejects a Location it cannot parse', async () => {
    const other = await serve((req, res) => res.end(JSON.stringify({ auth: req.headers.authorization ?? null, key: req.headers['x-api-key'] ?? null })));
    const { url } = await serve((req, res) => {
      if (req.url === '/bad') return void res.writeHead(302, { location: 'http://[::1' }).end();
      if (req.url === '/same') return void res.writeHead(307, { location: '/echo' }).end();
      if (req.url === '/echo') return void res.end(JSON.stringify({ auth: req.headers.authorization ?? null }));
      res.writeHead(307, { location: `${other.url}/elsewhere` }).end();
    });
    const headers = { authorization: 'Bearer sk-secret', 'x-api-key': 'sk-ant-secret' };
    expect(await (await httpFetch(`${url}/away`, { method: 'POST', body: '{}', headers })).json()).toEqual({ auth: null, key: null });
    expect(await (await httpFetch(`${url}/same`, { method: 'POST', body: '{}', headers })).json()).toEqual({ auth: 'Bearer sk-secret' });
    await expect(httpFetch(`${url}/bad`)).rejects.toMatchObject({ message: 'fetch failed' });
  });

  it('an abort after the whole body arrived, but before it was read, errors the body', async () => {
    const { url } = await serve((_req, res) => {
      res.write('a'.repeat(10));
      setTimeout(() => res.end('b'.repeat(10)), 20);
    });
    const abort = new AbortController();
    const res = await httpFetch(url, { signal: abort.signal });
    const reader = res.body!.getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, 80));
    abort.abort();
    const rest = (async () => {
      for (;;) if ((await reader.read()).done) return 'ended';
    })();
    await expect(rest).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('reads an empty gzip body as empty, as the built-in fetch does', async () => {
    const { url } = await serve((_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end());
    expect(await (await httpFetch(url)).text()).toBe('');
  });
});
