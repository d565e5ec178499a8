import type { Logger } from 'pino';
import type { AgentStreamOptions } from '../agent.js';
import type { AgentDeps } from '../agent.js';
import { LimiterRegistry, type RateLimiter, type RateLimits } from '../limiter.js';
import { priceFor, type Price } from '../prices.js';
import { timerSleep } from '../../clock.js';
import { providerFetch, proxySecrets } from './provider-fetch.js';
import { limiterKey, resolveEndpoint, type Endpoint, type EndpointSpec, type Provider } from './endpoint.js';
import { redactor, urlSecrets } from './redact.js';
import { cacheFromEnv } from './call-cache.js';
import type { RemoteTurnConfig } from './remote-turn.js';
import { firstByteTimeoutMs } from '../spec.js';

/**
 * Without a registry in deps, agents share limiters when they were given the same environment object:
 * the agents of one run (the runner hands each a copy of one deps) and, in the CLI, every run of the process.
 */
const byEnv = new WeakMap<object, LimiterRegistry>();

export function limiterRegistry(deps: AgentDeps): LimiterRegistry {
  if (deps.limiters) return deps.limiters;
  let r = byEnv.get(deps.env);
  if (!r) {
    r = new LimiterRegistry();
    byEnv.set(deps.env, r);
  }
  return r;
}

export interface RemoteSpec extends EndpointSpec {
  model: string;
  maxRetries: number;
  timeoutMs: number;
  firstByteTimeoutMs?: number | undefined;
  rateLimit?: RateLimits | undefined;
}

export interface RemoteSetup {
  endpoint: Endpoint;
  redact: (s: string) => string;
  logger: Logger;
  limiter: RateLimiter;
  price: Price | undefined;
  label: string;
  /** How long an attempt may wait for the response to begin. */
  firstByteTimeoutMs: number;
  turnConfig(options: AgentStreamOptions, how: { sdkRetries: boolean; http?: boolean; ndjson?: boolean }): RemoteTurnConfig;
}

/** Endpoint, key, logger, limiter and price of one remote agent, resolved once when it is created. */
export function remoteSetup(provider: Provider, spec: RemoteSpec, deps: AgentDeps): RemoteSetup {
  const endpoint = resolveEndpoint(provider, spec, deps.env);
  const redact = redactor([endpoint.apiKey, ...urlSecrets(endpoint.baseURL), ...proxySecrets(deps.env)]);
  // Read once per agent: a proxy variable that is not a URL stops the run before its first request.
  const fetch = deps.fetch ?? providerFetch(deps.env);
  const logger = deps.logger.child({ agentId: spec.id, backend: spec.backend, model: spec.model });
  const limiter = limiterRegistry(deps).get(limiterKey(endpoint), spec.rateLimit ?? {});
  const price = priceFor(spec.model, deps.prices);
  if (!price && endpoint.official) logger.warn({ model: spec.model }, 'no price known for this model: its cost counts as 0 (add it to the scenario\'s prices)');
  const label = `agent '${spec.id}' (${spec.backend} ${spec.model})`;
  const cache = deps.cache ?? cacheFromEnv(deps.env);
  const firstByte = firstByteTimeoutMs(spec);
  return {
    firstByteTimeoutMs: firstByte,
    endpoint,
    redact,
    logger,
    limiter,
    price,
    label,
    turnConfig: (options, how) => ({
      agentId: spec.id,
      turn: options.turn,
      label,
      maxRetries: spec.maxRetries,
      timeoutMs: spec.timeoutMs,
      firstByteTimeoutMs: firstByte,
      sdkRetries: how.sdkRetries,
      http: how.http ?? true,
      ndjson: how.ndjson ?? false,
      fetch,
      limiter,
      sleep: deps.sleep ?? timerSleep,
      price,
      redact,
      logger,
      signal: options.signal,
      ...(cache ? { cache } : {}),
    }),
  };
}
