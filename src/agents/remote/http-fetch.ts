import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/**
 * The `fetch` the arena hands to provider SDKs: the same interface, built on node:http with one keep-alive
 * connection pool per process.
 *
 * Why not the built-in fetch: with a few hundred runs talking to one server, each request through it cost
 * about 0.66 ms of CPU, and a third of the requests opened a new connection (2,500 requests, 955
 * connections). Over node:http the same load costs 0.18 ms a request and keeps exactly one connection per
 * concurrent run (figures from `bench/batch.bench.mjs`'s local server on our machines).
 *
 * What it does: string and byte bodies, streamed response bodies (a connection cut mid-body errors the
 * stream, it never ends it early), abort at any moment with the signal's reason, gzip/deflate/br
 * decoding, redirects, and errors shaped as the built-in fetch's (`TypeError('fetch failed', { cause })`)
 * so SDKs classify them as connection errors. Anything else (a Request object, stream or form bodies)
 * goes to the built-in fetch.
 */
export const httpFetch: typeof globalThis.fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined;
  const body = init?.body ?? null;
  const bytes = body === null ? undefined : typeof body === 'string' ? Buffer.from(body) : body instanceof Uint8Array ? body : body instanceof ArrayBuffer ? new Uint8Array(body) : null;
  if (url === undefined || bytes === null || !/^https?:/i.test(url)) return globalThis.fetch(input, init);
  return send(new URL(url), (init?.method ?? 'GET').toUpperCase(), new Headers(init?.headers), bytes, init?.signal ?? undefined, init?.redirect ?? 'follow', 0);
};

/**
 * Idle pooled connections are closed after 4 s, or sooner if the server's Keep-Alive header says so,
 * before a server (Node's default: 5 s) closes them under a request being sent.
 */
const AGENT_OPTIONS = { keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4096, scheduling: 'lifo', timeout: 4_000 } as const;
const agents = { http: new http.Agent(AGENT_OPTIONS), https: new https.Agent(AGENT_OPTIONS) };
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const REDIRECT = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;
/** Methods safe to send twice: only these are sent again after a reset on a reused connection. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Credentials that must not follow a redirect to another origin (the built-in fetch drops authorization). */
const CREDENTIALS = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key', 'x-goog-api-key'];

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

const failed = (cause: unknown) => new TypeError('fetch failed', { cause });

function send(
  url: URL,
  method: string,
  headers: Headers,
  bytes: Uint8Array | undefined,
  signal: AbortSignal | undefined,
  redirect: RequestRedirect,
  redirects: number,
  retried = false,
): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const out: Record<string, string> = {};
    headers.forEach((value, name) => (out[name] = value));
    if (bytes !== undefined) out['content-length'] = String(bytes.byteLength);
    const secure = url.protocol === 'https:';
    const req = (secure ? https : http).request(url, { method, headers: out, agent: secure ? agents.https : agents.http });
    let responded = false;
    /** Set once the body stream exists: an abort must error it, even if every byte has arrived. */
    let failBody: ((reason: unknown) => void) | undefined;
    const onAbort = () => {
      const reason = abortReason(signal!);
      failBody?.(reason);
      req.destroy(reason instanceof Error ? reason : undefined);
      if (!responded) reject(reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const unlisten = () => signal?.removeEventListener('abort', onAbort);

    req.once('error', (err) => {
      if (responded) return;
      unlisten();
      if (signal?.aborted) return reject(abortReason(signal));
      // A kept-alive connection the server closed just as we reused it. Node's documentation advises
      // sending again, but a reset can also come after the server got the request: only a request that
      // is safe to repeat is sent again. A POST fails, and the SDK or the turn retries it, counted.
      if (req.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET' && !retried && IDEMPOTENT.has(method)) {
        send(url, method, headers, bytes, signal, redirect, redirects, true).then(resolve, reject);
        return;
      }
      reject(failed(err));
    });

    req.once('response', (res) => {
      responded = true;
      try {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if (REDIRECT.has(status) && location !== undefined && redirect !== 'manual') {
          res.resume();
          unlisten();
          if (redirect === 'error') return reject(failed(new Error(`redirected to ${location}`)));
          if (redirects >= MAX_REDIRECTS) return reject(failed(new Error('too many redirects')));
          let target: URL;
          try {
            target = new URL(location, url);
          } catch (err) {
            return reject(failed(err));
          }
          if (target.protocol !== 'http:' && target.protocol !== 'https:') return reject(failed(new Error(`redirected to ${target.protocol} (not HTTP)`)));
          if (secure && target.protocol === 'http:') return reject(failed(new Error(`refusing a redirect from https to plain http (${target.origin})`)));
          // 303, and 301/302 after a POST, become a GET without body; 307/308 repeat the request as it was.
          const asGet = status === 303 || ((status === 301 || status === 302) && method === 'POST');
          const next = new Headers(headers);
          if (asGet) for (const h of ['content-type', 'content-length', 'content-encoding']) next.delete(h);
          if (target.origin !== url.origin) for (const h of CREDENTIALS) next.delete(h);
          send(target, asGet ? 'GET' : method, next, asGet ? undefined : bytes, signal, redirect, redirects + 1).then(resolve, reject);
          return;
        }
        const responseHeaders = new Headers();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          try {
            responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          } catch {
            // A header value Headers refuses: leave it out rather than lose the response.
          }
        }
        const noBody = method === 'HEAD' || NULL_BODY.has(status);
        let body: ReadableStream<Uint8Array> | null = null;
        if (noBody) {
          res.resume();
          unlisten();
        } else {
          const stream = bodyStream(res, req, signal, unlisten);
          body = stream.body;
          failBody = stream.fail;
        }
        // Throws for a status the Response class cannot represent (below 200 or above 599).
        const response = new Response(body, { status, statusText: res.statusMessage ?? '', headers: responseHeaders });
        Object.defineProperty(response, 'url', { value: url.href });
        Object.defineProperty(response, 'redirected', { value: redirects > 0 });
        resolve(response);
      } catch (err) {
        req.destroy();
        unlisten();
        reject(failed(err));
      }
    });

    req.end(bytes);
  });
}

/**
 * The response body as a web stream, decoded if the server compressed it. It closes only when the whole
 * message arrived and nothing aborted it; a connection lost before that errors it (TypeError 'terminated',
 * as the built-in fetch), and an abort errors it with the signal's reason.
 */
function bodyStream(
  res: http.IncomingMessage,
  req: http.ClientRequest,
  signal: AbortSignal | undefined,
  unlisten: () => void,
): { body: ReadableStream<Uint8Array>; fail: (reason: unknown) => void } {
  const encoding = (res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : undefined;
  const source: Readable = decoder ? res.pipe(decoder) : res;
  let rawBytes = 0;
  if (decoder) res.on('data', (chunk: Buffer) => (rawBytes += chunk.byteLength));
  let settled = false;
  /** The whole body arrived while a chunk still waits in the queue for its reader. */
  let ended = false;
  let close: () => void = () => {};
  let fail: (reason: unknown) => void = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      fail = (reason: unknown) => {
        if (settled) return;
        settled = true;
        unlisten();
        controller.error(signal?.aborted ? abortReason(signal) : reason);
      };
      // The parser hands over each chunk of a chunked body as its own 'data' event, hundreds for one
      // socket read of a token stream; those of one read are passed on as one piece (they all fire before
      // the next microtask, so nothing waits), which spares the SDK's stream parser most of its per-chunk work.
      let pending: Buffer[] = [];
      const flush = () => {
        if (settled || pending.length === 0) return;
        const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
        pending = [];
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) source.pause();
      };
      close = () => {
        if (settled) return;
        flush();
        settled = true;
        unlisten();
        controller.close();
      };
      const cut = () => new TypeError('terminated', { cause: new Error('the connection closed before the response ended') });
      source.on('data', (chunk: Buffer) => {
        if (settled) return;
        if (pending.push(chunk) === 1) queueMicrotask(flush);
      });
      source.once('end', () => {
        if (signal?.aborted) return fail(abortReason(signal));
        if (!res.complete) return fail(cut());
        flush();
        // The body closes once its reader has taken every chunk, so an abort until then still errors it.
        if ((controller.desiredSize ?? 1) > 0) close();
        else ended = true;
      });
      source.once('error', (err) => {
        // An empty compressed body is no body at all (the built-in fetch reads it as empty).
        if (decoder && rawBytes === 0 && res.complete) return close();
        fail(new TypeError('terminated', { cause: err }));
      });
      res.once('error', (err) => fail(new TypeError('terminated', { cause: err })));
      res.once('close', () => {
        if (!res.complete) fail(cut());
      });
    },
    pull() {
      if (ended) close();
      else source.resume();
    },
    cancel() {
      // Unread bytes stay on the connection, so it cannot be reused: close it.
      settled = true;
      unlisten();
      req.destroy();
    },
  });
  return { body, fail: (reason) => fail(reason) };
}
