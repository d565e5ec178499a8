import { resolveEndpoint } from '../agents/remote/endpoint.js';
import { providerFetch } from '../agents/remote/provider-fetch.js';
import type { Embedder, EmbedderKind } from './embedder.js';
import { createOfflineEmbedder } from './embedders/offline.js';
import { createOllamaEmbedder } from './embedders/ollama.js';
import { createOpenAIEmbedder } from './embedders/openai.js';

export interface EmbedderConfig {
  kind: EmbedderKind;
  /** Model for openai/ollama (defaults: text-embedding-3-small, nomic-embed-text). */
  model?: string;
  /** Endpoint; defaults to OPENAI_BASE_URL / OLLAMA_HOST, then the public service. */
  baseURL?: string;
  env?: Readonly<Record<string, string | undefined>>;
  fetch?: typeof globalThis.fetch;
}

/** The embedder a config names, or undefined for `none`. Keys come from the environment only. */
export function createEmbedder(config: EmbedderConfig): Embedder | undefined {
  const env = config.env ?? {};
  switch (config.kind) {
    case 'none':
      return undefined;
    case 'offline':
      return createOfflineEmbedder();
    case 'openai': {
      const ep = resolveEndpoint('openai', { id: 'embeddings', backend: 'openai embeddings', baseURL: config.baseURL }, env);
      // The agents' fetch: the same proxies (HTTPS_PROXY, NO_PROXY) and connection pool.
      return createOpenAIEmbedder({ baseURL: ep.baseURL, apiKey: ep.apiKey, ...(config.model ? { model: config.model } : {}), fetch: config.fetch ?? providerFetch(env) });
    }
    case 'ollama': {
      const ep = resolveEndpoint('ollama', { id: 'embeddings', backend: 'ollama embeddings', baseURL: config.baseURL }, env);
      return createOllamaEmbedder({ host: ep.baseURL, apiKey: ep.apiKey, ...(config.model ? { model: config.model } : {}), fetch: config.fetch ?? providerFetch(env) });
    }
    default: {
      const never: never = config.kind;
      throw new Error(`unknown embedder ${String(never)}`);
    }
  }
}

/** The config that recreates the embedder behind a recorded id (`openai:text-embedding-3-small`). */
export function configFromId(id: string): Pick<EmbedderConfig, 'kind' | 'model'> | undefined {
  if (id === 'offline:use-lite') return { kind: 'offline' };
  const m = /^(openai|ollama):([^@]+)(?:@\d+)?$/.exec(id);
  if (!m) return undefined;
  return { kind: m[1] === 'openai' ? 'openai' : 'ollama', model: m[2]! };
}
