import { publicUrl } from '../arena/run.js';
import { redactor, urlSecrets } from '../agents/remote/redact.js';

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

/**
 * The seat number a scenario's live judge (`judge:`, with its own baseURL and apiKeyEnv) takes among the
 * endpoint places of a scenario: agents are seats 0, 1, …; the judge is this one.
 */
export const JUDGE_SEAT = -1;

/** The scenario's endpoints by seat: its agents', then its live judge's (seat JUDGE_SEAT) when it has one. */
function endpointsOf(scenario: Record<string, unknown>): [seat: number, endpoint: unknown][] {
  const out: [number, unknown][] = agentsOf(scenario).map((a, seat) => [seat, a]);
  const judge = scenario.judge;
  if (judge && typeof judge === 'object') out.push([JUDGE_SEAT, judge]);
  return out;
}

function baseUrlOf(x: unknown): string | undefined {
  return x && typeof x === 'object' && 'baseURL' in x && typeof x.baseURL === 'string' ? x.baseURL : undefined;
}

function withStoredUrl<T>(x: T): T {
  const url = baseUrlOf(x);
  return url !== undefined && hasCredentials(url) ? { ...x, baseURL: storedUrl(url) } : x;
}

/** A scenario record as a file may hold it: its agents' and its live judge's endpoint URLs without credentials. */
export function publicScenarioRecord(scenario: Record<string, unknown>): Record<string, unknown> {
  const judge = scenario.judge;
  return {
    ...scenario,
    ...(Array.isArray(scenario.agents) ? { agents: scenario.agents.map(withStoredUrl) } : {}),
    ...(judge && typeof judge === 'object' ? { judge: withStoredUrl(judge) } : {}),
  };
}

/** The plan as a file may hold it: its models' endpoint URLs without credentials. */
export function publicPlan(plan: Record<string, unknown>): Record<string, unknown> {
  return Array.isArray(plan.models) ? { ...plan, models: plan.models.map(withStoredUrl) } : plan;
}

/** Where an endpoint URL sits in a manifest, and the URL: [base scenario index, seat, URL]. */
export type PlacedUrl = readonly [ref: number, seat: number, url: string];

/**
 * The real endpoint URLs with credentials of a batch's base scenarios, for putting back what batch.json
 * keeps without them. A stored URL is restored from the same place (base scenario and seat) when the URL
 * there has the same stored form; else from the one URL anywhere with that form (a plan edited since).
 */
export class EndpointUrls {
  private readonly byPlace = new Map<string, string>();
  private readonly byForm = new Map<string, string | null>();

  constructor(readonly entries: readonly PlacedUrl[]) {
    for (const [ref, seat, url] of entries) {
      this.byPlace.set(`${ref}:${seat}`, url);
      const form = storedUrl(url);
      const known = this.byForm.get(form);
      // Two different URLs that look alike once stored: only their places can tell them apart.
      this.byForm.set(form, known === undefined || known === url ? url : null);
    }
  }

  /** The URLs with credentials in these scenarios (in memory, as the runs use them). */
  static of(scenarios: readonly Record<string, unknown>[]): EndpointUrls {
    const entries: PlacedUrl[] = [];
    scenarios.forEach((s, ref) =>
      endpointsOf(s).forEach(([seat, a]) => {
        const url = baseUrlOf(a);
        if (url !== undefined && hasCredentials(url)) entries.push([ref, seat, url]);
      }),
    );
    return new EndpointUrls(entries);
  }

  get size(): number {
    return this.entries.length;
  }

  lookup(ref: number, seat: number, stored: string): string | undefined {
    const here = this.byPlace.get(`${ref}:${seat}`);
    if (here !== undefined && storedUrl(here) === stored) return here;
    return this.byForm.get(stored) ?? undefined;
  }
}

/** Stored endpoint URLs (credentials removed) of these base scenarios, by index, that `urls` cannot restore. */
export function unrestorable(scenarios: readonly Record<string, unknown>[], urls: EndpointUrls, refs: readonly number[] = scenarios.map((_, i) => i)): string[] {
  const missing = new Set<string>();
  scenarios.forEach((s, i) =>
    endpointsOf(s).forEach(([seat, a]) => {
      const url = baseUrlOf(a);
      if (url !== undefined && isStoredWithoutCredentials(url) && urls.lookup(refs[i] ?? i, seat, url) === undefined) missing.add(url);
    }),
  );
  return [...missing];
}

/** A stored scenario with the real endpoint URLs put back where `urls` knows them. */
export function restoreUrls(scenario: Record<string, unknown>, ref: number, urls: EndpointUrls): Record<string, unknown> {
  const restore = (a: unknown, seat: number): unknown => {
    const url = baseUrlOf(a);
    const real = url === undefined || !isStoredWithoutCredentials(url) ? undefined : urls.lookup(ref, seat, url);
    return real === undefined ? a : { ...(a as object), baseURL: real };
  };
  const judge = scenario.judge;
  return {
    ...scenario,
    ...(Array.isArray(scenario.agents) ? { agents: scenario.agents.map((a: unknown, seat) => restore(a, seat)) } : {}),
    ...(judge && typeof judge === 'object' ? { judge: restore(judge, JUDGE_SEAT) } : {}),
  };
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
    for (const [, a] of endpointsOf(s)) {
      secrets.push(...urlSecrets(baseUrlOf(a)));
      if (a && typeof a === 'object' && 'apiKeyEnv' in a && typeof a.apiKeyEnv === 'string') secrets.push(env[a.apiKeyEnv]);
    }
  }
  return redactor(secrets);
}
