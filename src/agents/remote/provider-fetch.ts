import type { Agent, Dispatcher, ProxyAgent } from 'undici';
import { InputError } from '../../errors.js';
import { httpFetch } from './http-fetch.js';
import { urlSecrets } from './redact.js';

type Fetch = typeof globalThis.fetch;
type Env = Readonly<Record<string, string | undefined>>;

/**
 * How requests leave the process when no proxy is in the way: `node-http` is our fetch on node:http
 * (`http-fetch.ts`), `undici` is undici's fetch on a keep-alive `Agent`. Both sit behind the same proxy
 * handling; `bench/backends.bench.mjs` measures one against the other.
 */
export type Transport = 'node-http' | 'undici';

/** The transport used unless a caller asks for the other (the faster on `npm run bench -- backends`). */
export const DEFAULT_TRANSPORT: Transport = 'node-http';

/** One proxy as the environment names it; `name` is safe to print (no user or password). */
export interface Proxy {
  url: string;
  name: string;
  /** The variable it came from, for messages. */
  variable: string;
}

/** The proxies of an environment: one for http URLs, one for https URLs, and the hosts that skip both. */
export interface ProxySettings {
  http: Proxy | undefined;
  https: Proxy | undefined;
  noProxy: readonly NoProxyEntry[];
  /** NO_PROXY is `*`: nothing goes through a proxy. */
  noneProxied: boolean;
}

interface NoProxyEntry {
  host: string;
  port: number | undefined;
}

function variable(env: Env, name: string): { variable: string; value: string } | undefined {
  // The lower-case form wins, as in curl.
  for (const v of [name.toLowerCase(), name]) {
    const value = env[v]?.trim();
    if (value) return { variable: v, value };
  }
  return undefined;
}

function parseProxy(found: { variable: string; value: string }): Proxy {
  // `proxy.example.org:3128` without a scheme means plain http, as curl reads it.
  const text = /^[a-z][a-z0-9+.-]*:\/\//iu.test(found.value) ? found.value : `http://${found.value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The value itself is not repeated: it may hold a password.
    throw new InputError(`${found.variable} is not a proxy URL (expected http://host:port, with user:password@ if the proxy asks for them)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(`${found.variable}: proxies of scheme ${url.protocol} are not supported (use an http:// or https:// proxy)`);
  }
  return { url: url.href, name: `${url.protocol}//${url.host}`, variable: found.variable };
}

function parseNoProxy(value: string): NoProxyEntry[] {
  const out: NoProxyEntry[] = [];
  for (const raw of value.split(/[\s,]+/u)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    // `[::1]:8080` or `::1` (an IPv6 address has colons of its own), else `host` or `host:port`.
    const m = /^\[(.*)\](?::(\d+))?$/u.exec(entry) ?? (entry.split(':').length > 2 ? [entry, entry] : /^(.*?)(?::(\d+))?$/u.exec(entry)!);
    // `.example.org` and `*.example.org` mean the domain and everything under it.
    out.push({ host: m[1]!.replace(/^\*?\./u, ''), port: m[2] === undefined ? undefined : Number(m[2]) });
  }
  return out;
}

/** Reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY (either case) from `env`; throws InputError for a proxy that is not a URL. */
export function proxySettings(env: Env): ProxySettings {
  const httpVar = variable(env, 'HTTP_PROXY');
  const httpsVar = variable(env, 'HTTPS_PROXY');
  const http = httpVar ? parseProxy(httpVar) : undefined;
  // Without HTTPS_PROXY, https requests take HTTP_PROXY (through a CONNECT tunnel), as undici and most tools do.
  const https = httpsVar ? parseProxy(httpsVar) : http;
  const noProxyValue = variable(env, 'NO_PROXY')?.value ?? '';
  return { http, https, noProxy: parseNoProxy(noProxyValue), noneProxied: noProxyValue.trim() === '*' };
}

/** The proxy a request to `url` goes through, or undefined when it goes straight to the server. */
export function proxyFor(url: URL, settings: ProxySettings): Proxy | undefined {
  const proxy = url.protocol === 'https:' ? settings.https : url.protocol === 'http:' ? settings.http : undefined;
  if (proxy === undefined || settings.noneProxied) return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/u, '$1').toLowerCase();
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  for (const entry of settings.noProxy) {
    if (entry.port !== undefined && entry.port !== port) continue;
    if (host === entry.host || host.endsWith(`.${entry.host}`)) return undefined;
  }
  return proxy;
}

/** Passwords and user names in the proxy URLs of `env`, for the redactor of everything an agent logs. */
export function proxySecrets(env: Env): string[] {
  const out: string[] = [];
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY']) {
    for (const v of [name.toLowerCase(), name]) {
      const value = env[v]?.trim();
      if (value) out.push(...urlSecrets(/:\/\//u.test(value) ? value : `http://${value}`));
    }
  }
  return out;
}

/**
 * Idle connections close after 4 s (sooner if the server's Keep-Alive says so), before a server with
 * Node's default of 5 s closes them under a request being sent — the same rule as `http-fetch.ts`.
 */
const AGENT_OPTIONS = { keepAliveTimeout: 4_000, keepAliveMaxTimeout: 600_000 } as const;

type Undici = typeof import('undici');
let undici: Promise<Undici> | undefined;
/** undici is loaded on the first request that needs it: every CLI command would pay its start-up otherwise. */
const loadUndici = () => (undici ??= import('undici'));

/** undici's fetch on the dispatcher `pick` chooses, typed as the global fetch the SDKs take. */
function fetchWith(pick: (u: Undici) => Dispatcher): Fetch {
  const f = async (input: Parameters<Fetch>[0], init?: RequestInit) => {
    const u = await loadUndici();
    // undici's own Request/Response classes match the global ones at run time; only their types differ.
    return u.fetch(input as Parameters<Undici['fetch']>[0], { ...(init as Parameters<Undici['fetch']>[1]), dispatcher: pick(u) });
  };
  return f as unknown as Fetch;
}

let directAgent: Agent | undefined;
/** The process's one pool of direct undici connections. */
function direct(u: Undici): Agent {
  return (directAgent ??= new u.Agent(AGENT_OPTIONS));
}

const proxyAgents = new Map<string, ProxyAgent>();
/**
 * One pool of connections per proxy for the process. Plain http URLs are sent to the proxy as
 * absolute-URI requests; https URLs through a CONNECT tunnel (institutional proxies often allow
 * CONNECT to port 443 only).
 */
function proxyAgent(u: Undici, proxy: Proxy): ProxyAgent {
  let agent = proxyAgents.get(proxy.url);
  if (!agent) {
    agent = new u.ProxyAgent({ uri: proxy.url, proxyTunnel: false, ...AGENT_OPTIONS });
    proxyAgents.set(proxy.url, agent);
  }
  return agent;
}

const ASK_FOR_CREDENTIALS = 'put them in the URL as http://user:password@host:port';

/** The innermost cause says what happened; the wrappers around it (`fetch failed`, `Request was cancelled.`) do not. */
function describe(err: unknown): string {
  let inner = err;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  if (!(inner instanceof Error)) return String(inner);
  const tunnel = /^Proxy response \((\d+)\)/u.exec(inner.message);
  if (tunnel) return `the proxy refused the CONNECT tunnel with ${tunnel[1]}${tunnel[1] === '407' ? ` (it asks for credentials: ${ASK_FOR_CREDENTIALS})` : ''}`;
  const code = (inner as NodeJS.ErrnoException).code;
  return `${inner.message}${code && !inner.message.includes(code) ? ` (${code})` : ''}`;
}

/** What a proxy said when it refused: a failed request that names the proxy, never its credentials. */
function proxyFailure(proxy: Proxy, what: string, cause?: unknown): TypeError {
  return new TypeError('fetch failed', { cause: new Error(`through the proxy ${proxy.name} (${proxy.variable}): ${what}`, { cause }) });
}

/** A fetch that sends each request through the proxy `env` names for its URL, or by `transport` when none applies. */
function proxiedFetch(settings: ProxySettings, transport: Transport): Fetch {
  const straight = transport === 'undici' ? fetchWith(direct) : httpFetch;
  return async (input, init) => {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    let proxy: Proxy | undefined;
    try {
      proxy = proxyFor(new URL(href), settings);
    } catch {
      proxy = undefined;
    }
    if (proxy === undefined) return straight(input, init);
    let res: Response;
    try {
      res = await fetchWith((u) => proxyAgent(u, proxy))(input, init);
    } catch (err) {
      if (init?.signal?.aborted) throw err;
      throw proxyFailure(proxy, describe(err), err);
    }
    if (res.status === 407) {
      await res.body?.cancel().catch(() => undefined);
      throw proxyFailure(proxy, `the proxy asks for credentials (407 Proxy Authentication Required): ${ASK_FOR_CREDENTIALS}`);
    }
    return res;
  };
}

/**
 * The fetch provider SDKs get in an environment: straight to the server by `transport`, or through
 * HTTPS_PROXY / HTTP_PROXY unless NO_PROXY names the host. Connection pools are shared by the whole
 * process. Throws InputError when a proxy variable is not a URL.
 */
export function providerFetch(env: Env, transport: Transport = DEFAULT_TRANSPORT): Fetch {
  const settings = proxySettings(env);
  if (settings.http === undefined && settings.https === undefined) return transport === 'undici' ? fetchWith(direct) : httpFetch;
  return proxiedFetch(settings, transport);
}
