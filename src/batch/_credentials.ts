import { publicUrl } from '../arena/run.js';
import { redactor, urlSecrets } from '../agents/remote/redact.js';
import { InputError } from '../errors.js';

/**
 * Credentials never go into a file a batch writes (batch.json, batch.log, summaries, the queue's copies in
 * Redis). Endpoint URLs lose their password and query values the way run.started records them; `batch
 * resume` takes the real URLs from the plan file again.
 */

/** A URL carries credentials: a user name with a password, or query values (`?api-key=…`). */
export function hasCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.password !== '' || u.search !== '';
  } catch {
    return false;
  }
}

/** A URL as a batch file keeps it: unchanged without credentials, else as the run log writes it. */
export function storedUrl(url: string): string {
  return hasCredentials(url) ? publicUrl(url) : url;
}

/** A URL as `storedUrl` leaves one that had credentials (`publicUrl` writes `[redacted]`, percent-encoded in the user part). */
export function isStoredWithoutCredentials(url: string): boolean {
  return url.includes('%5Bredacted%5D') || url.includes('[redacted]');
}

function agentsOf(scenario: Record<string, unknown>): unknown[] {
  return Array.isArray(scenario.agents) ? scenario.agents : [];
}

function baseUrlOf(x: unknown): string | undefined {
  return x && typeof x === 'object' && 'baseURL' in x && typeof x.baseURL === 'string' ? x.baseURL : undefined;
}

function withStoredUrl<T>(x: T): T {
  const url = baseUrlOf(x);
  return url !== undefined && hasCredentials(url) ? { ...x, baseURL: storedUrl(url) } : x;
}

/** A scenario record as a file may hold it. */
export function publicScenarioRecord(scenario: Record<string, unknown>): Record<string, unknown> {
  return Array.isArray(scenario.agents) ? { ...scenario, agents: scenario.agents.map(withStoredUrl) } : scenario;
}

/** The plan as a file may hold it: its models' endpoint URLs without credentials. */
export function publicPlan(plan: Record<string, unknown>): Record<string, unknown> {
  return Array.isArray(plan.models) ? { ...plan, models: plan.models.map(withStoredUrl) } : plan;
}

/** Real endpoint URLs with credentials in these scenarios, by the form batch.json stores them in. */
export function credentialUrls(scenarios: readonly Record<string, unknown>[]): Map<string, string> {
  const urls = new Map<string, string>();
  for (const s of scenarios) {
    for (const a of agentsOf(s)) {
      const url = baseUrlOf(a);
      if (url === undefined || !hasCredentials(url)) continue;
      const key = storedUrl(url);
      const known = urls.get(key);
      if (known !== undefined && known !== url) {
        throw new InputError(`two endpoint URLs with different credentials look alike once they are removed (${key}): give them different hosts or paths`);
      }
      urls.set(key, url);
    }
  }
  return urls;
}

/** Stored endpoint URLs (credentials removed) of these scenarios that `urls` cannot restore. */
export function unrestorable(scenarios: readonly Record<string, unknown>[], urls: ReadonlyMap<string, string>): string[] {
  const missing = new Set<string>();
  for (const s of scenarios) {
    for (const a of agentsOf(s)) {
      const url = baseUrlOf(a);
      if (url !== undefined && isStoredWithoutCredentials(url) && !urls.has(url)) missing.add(url);
    }
  }
  return [...missing];
}

/** Key variables whose values must never reach a batch file: the providers' own and every apiKeyEnv. */
const KEY_VARIABLES = ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY'];
/** Endpoint variables, whose URLs may carry credentials as a scenario's baseURL may. */
const URL_VARIABLES = ['ANTHROPIC_BASE_URL', 'OPENAI_BASE_URL', 'OLLAMA_HOST'];

/**
 * The redaction run logs apply to error texts (`redactor`), for everything else a batch writes: the
 * credentials in these scenarios' endpoint URLs and in the endpoint variables, and the keys their agents
 * read from the environment.
 */
export function batchRedactor(scenarios: readonly Record<string, unknown>[], env: Readonly<Record<string, string | undefined>>): (text: string) => string {
  const secrets: (string | undefined)[] = KEY_VARIABLES.map((k) => env[k]);
  for (const v of URL_VARIABLES) secrets.push(...urlSecrets(env[v]));
  for (const s of scenarios) {
    for (const a of agentsOf(s)) {
      secrets.push(...urlSecrets(baseUrlOf(a)));
      if (a && typeof a === 'object' && 'apiKeyEnv' in a && typeof a.apiKeyEnv === 'string') secrets.push(env[a.apiKeyEnv]);
    }
  }
  return redactor(secrets);
}
