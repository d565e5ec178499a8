import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../../errors.js';

type Fetch = typeof globalThis.fetch;

/** The environment variable that turns the cache on for runs that are not given one (`arena batch --cache` sets it for its runs). */
export const CACHE_DIR_ENV = 'ARENA_CACHE_DIR';

/**
 * Request headers that change what a provider answers. Everything else stays out of the key: keys and
 * auth headers above all, and SDK telemetry (`x-stainless-*`: retry count, timeout, runtime version)
 * that differs from one identical request to the next.
 */
const KEYED_HEADERS = new Set(['anthropic-version', 'anthropic-beta', 'openai-beta', 'accept', 'content-type']);
/** Response headers not replayed: hop-by-hop ones, a body encoding already undone, cookies and auth challenges. */
const UNREPLAYED_HEADERS = /^(content-length|content-encoding|transfer-encoding|connection|keep-alive|set-cookie2?|authorization|proxy-authenticate|www-authenticate)$/iu;

const EntrySchema = z.object({
  v: z.literal(1),
  key: z.string(),
  /** What was asked, for a reader of the folder; the key is computed from these (plus `extra`). */
  request: z.object({ method: z.string(), url: z.string(), headers: z.record(z.string(), z.string()), body: z.unknown(), extra: z.unknown().optional() }),
  response: z.object({
    status: z.number().int().min(200).max(299),
    statusText: z.string(),
    headers: z.array(z.tuple([z.string(), z.string()])),
    encoding: z.enum(['utf8', 'base64']),
    body: z.string(),
    sha256: z.string(),
  }),
  recordedAt: z.string(),
});
type Entry = z.infer<typeof EntrySchema>;

/** Key material of one request, as described (and stored) without secrets. */
interface DescribedRequest {
  key: string;
  request: Entry['request'];
}

/** JSON with object keys sorted at every level, so that the same request always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

export interface CacheOptions {
  /** Told about entries that cannot be read or written (in addition to the call's logger). */
  onWarning?: (message: string) => void;
}

export interface CallOptions {
  /** Removes the key and other secrets from what is stored (the agent's redactor). */
  redact: (text: string) => string;
  /** What else decides the answer on our side (e.g. stop strings applied to the stream): part of the key. */
  extra?: unknown;
  /** Where warnings go besides the cache's own `onWarning`. */
  warn?: (message: string) => void;
}

/** One logical model call (the SDK's retries included) through the cache. */
export interface CachedCall {
  /** The fetch to hand the SDK for this call. */
  fetch: Fetch;
  /** How the latest request was answered: from the cache, by the provider, or not yet. */
  readonly answeredBy: 'cache' | 'provider' | undefined;
  /**
   * The caller accepted the latest response as a whole answer (the provider's end marker, or a stop
   * string it cut at): store the bytes it consumed. Does nothing for a replay or a response that is not 2xx.
   */
  commit(): Promise<void>;
  /** The latest answer came from the cache and could not be used: remove that entry. */
  discard(): Promise<void>;
}

/**
 * A record/replay cache of model calls in a folder, one JSON file per distinct request. The key is a hash
 * of the method, the URL without credentials, the headers that change the answer (API version, betas;
 * never keys or auth headers) and the body as canonical JSON, plus what the caller adds (`extra`, a
 * salt). A miss streams the provider's response to the caller unchanged while its bytes are kept; only
 * a 2xx response the caller commits (one it read as a whole answer) is stored, atomically (temporary file
 * then rename), so a killed or failed call leaves nothing that is replayed later and two processes
 * recording the same request at once each write a whole file. A hit answers with the recorded status,
 * headers and bytes without sending anything. An entry that cannot be read is reported and treated as a miss.
 */
export class ModelCallCache {
  private constructor(
    /** Absolute folder. */
    readonly dir: string,
    private readonly options: CacheOptions,
    private readonly salt: string | undefined,
  ) {}

  /** A cache in `dir`, created if missing; throws InputError (naming `label`) when it cannot be written. */
  static async open(dir: string, options: CacheOptions & { label?: string } = {}): Promise<ModelCallCache> {
    const abs = resolve(dir);
    const probe = join(abs, `.probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(abs, { recursive: true });
      await writeFile(probe, '');
      await rm(probe, { force: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new InputError(`${options.label ?? 'cache'} ${abs}: cannot write there (${code === 'ENOSPC' ? 'ENOSPC: the disk is full' : code})`, { cause: err });
    }
    return new ModelCallCache(abs, options, undefined);
  }

  /** A cache in `dir` without checking it first (the folder is made when the first entry is written). */
  static at(dir: string, options: CacheOptions = {}): ModelCallCache {
    return new ModelCallCache(resolve(dir), options, undefined);
  }

  /**
   * The same folder with `salt` in every key: identical requests under different salts are different
   * entries (e.g. the samples of a fork that should not all get the same recorded answer).
   */
  withSalt(salt: string): ModelCallCache {
    return new ModelCallCache(this.dir, this.options, this.salt === undefined ? salt : `${this.salt}\n${salt}`);
  }

  /** Where the entry of `key` lives. */
  entryFile(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  /** A call whose requests go through the cache to `base` on a miss. */
  call(base: Fetch, opts: CallOptions): CachedCall {
    const warn = (message: string) => {
      opts.warn?.(message);
      this.options.onWarning?.(message);
    };
    let answeredBy: CachedCall['answeredBy'];
    let replayedKey: string | undefined;
    let recording: { req: DescribedRequest; res: Response; chunks: Uint8Array[] } | undefined;
    const fetch: Fetch = async (input, init) => {
      const req = this.describe(input, init, opts);
      recording = undefined;
      replayedKey = undefined;
      if (req === undefined) {
        answeredBy = 'provider';
        return base(input, init);
      }
      if (init?.signal?.aborted) throw init.signal.reason;
      const hit = await this.lookup(req.key, warn);
      if (hit) {
        answeredBy = 'cache';
        replayedKey = req.key;
        return replayResponse(hit);
      }
      answeredBy = 'provider';
      const res = await base(input, init);
      if (!res.ok || !res.body) return res;
      const chunks: Uint8Array[] = [];
      const reader = res.body.getReader();
      recording = { req, res, chunks };
      // Each chunk is kept before the caller sees it, so what the caller has read is always recorded.
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const r = await reader.read();
          if (r.done) return controller.close();
          chunks.push(r.value);
          controller.enqueue(r.value);
        },
        cancel: (reason) => reader.cancel(reason),
      });
      return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    };
    return {
      fetch,
      get answeredBy() {
        return answeredBy;
      },
      commit: async () => {
        if (answeredBy !== 'provider' || recording === undefined) return;
        const { req, res, chunks } = recording;
        recording = undefined;
        await this.store(req, res, Buffer.concat(chunks), opts.redact, warn);
      },
      discard: async () => {
        if (answeredBy !== 'cache' || replayedKey === undefined) return;
        const file = this.entryFile(replayedKey);
        replayedKey = undefined;
        warn(`cache entry ${file} could not be used; it is removed and the provider is asked again`);
        await rm(file, { force: true }).catch(() => undefined);
      },
    };
  }

  /** The key material of a request, or undefined when its body is not something we can key (a stream, a form). */
  private describe(input: Parameters<Fetch>[0], init: RequestInit | undefined, opts: CallOptions): DescribedRequest | undefined {
    if (!(typeof input === 'string' || input instanceof URL)) return undefined;
    const raw = init?.body ?? null;
    const text = raw === null ? '' : typeof raw === 'string' ? raw : raw instanceof Uint8Array ? Buffer.from(raw).toString('utf8') : undefined;
    if (text === undefined) return undefined;
    let body: unknown = text;
    try {
      if (text !== '') body = JSON.parse(text);
    } catch {
      // Not JSON: keyed as the text it is.
    }
    const url = new URL(String(input));
    url.username = '';
    url.password = '';
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => {
      if (KEYED_HEADERS.has(name)) headers[name] = opts.redact(value);
    });
    const request = {
      method: (init?.method ?? 'GET').toUpperCase(),
      url: opts.redact(url.href),
      headers,
      body: typeof body === 'string' ? opts.redact(body) : JSON.parse(opts.redact(JSON.stringify(body))),
      ...(opts.extra !== undefined ? { extra: opts.extra } : {}),
    };
    const key = sha256(canonicalJson({ v: 1, ...request, ...(this.salt !== undefined ? { salt: this.salt } : {}) }));
    return { key, request };
  }

  /** The entry of `key`, or undefined on a miss; an entry that cannot be read is reported and counts as a miss. */
  private async lookup(key: string, warn: (m: string) => void): Promise<Entry | undefined> {
    const file = this.entryFile(key);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`cannot read cache entry ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}); asking the provider`);
      return undefined;
    }
    const problem = (why: string) => {
      warn(`cache entry ${file} is corrupt (${why}); asking the provider again and recording it anew`);
      return undefined;
    };
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return problem('not JSON');
    }
    const parsed = EntrySchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return problem(`${issue?.path.join('.') || 'entry'}: ${issue?.message ?? 'bad shape'}`);
    }
    const entry = parsed.data;
    if (entry.key !== key) return problem('it belongs to another request');
    if (sha256(bodyBytes(entry)) !== entry.response.sha256) return problem('its body does not match its checksum');
    return entry;
  }

  /** Write an entry whole: a temporary file renamed over the entry, so readers never see half of one. */
  private async store(req: DescribedRequest, res: Response, body: Buffer, redact: (s: string) => string, warn: (m: string) => void): Promise<void> {
    const utf8 = Buffer.from(body.toString('utf8'), 'utf8').equals(body);
    const headers: [string, string][] = [];
    res.headers.forEach((value, name) => {
      if (!UNREPLAYED_HEADERS.test(name)) headers.push([name, redact(value)]);
    });
    const entry: Entry = {
      v: 1,
      key: req.key,
      request: req.request,
      response: {
        status: res.status,
        statusText: res.statusText,
        headers,
        encoding: utf8 ? 'utf8' : 'base64',
        body: utf8 ? body.toString('utf8') : body.toString('base64'),
        sha256: sha256(body),
      },
      recordedAt: new Date().toISOString(),
    };
    const file = this.entryFile(req.key);
    const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(tmp, `${JSON.stringify(entry)}\n`);
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      warn(`cannot write cache entry ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}); the answer is used but not kept`);
    }
  }
}

function bodyBytes(entry: Entry): Buffer {
  return Buffer.from(entry.response.body, entry.response.encoding);
}

/** The recorded answer as a fresh response, its body a stream like the provider's. */
function replayResponse(entry: Entry): Response {
  const bytes = new Uint8Array(bodyBytes(entry));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
  return new Response(body, { status: entry.response.status, statusText: entry.response.statusText, headers: entry.response.headers });
}

const shared = new Map<string, ModelCallCache>();

/**
 * The cache `ARENA_CACHE_DIR` names in `env`, one per folder per process, or undefined when it is unset.
 * Its folder is made when the first entry is written.
 */
export function cacheFromEnv(env: Readonly<Record<string, string | undefined>>): ModelCallCache | undefined {
  const dir = env[CACHE_DIR_ENV]?.trim();
  if (!dir) return undefined;
  const abs = resolve(dir);
  let cache = shared.get(abs);
  if (!cache) {
    try {
      mkdirSync(abs, { recursive: true });
    } catch (err) {
      throw new InputError(`${CACHE_DIR_ENV} ${abs}: cannot write there (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
    }
    cache = ModelCallCache.at(abs);
    shared.set(abs, cache);
  }
  return cache;
}
