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
});
