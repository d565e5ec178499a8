import { accessSync, constants, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseYamlSource, type YamlSource } from '../yaml-source.js';
import type { z } from 'zod';
import { ScenarioError } from '../errors.js';
import { BACKENDS } from '../agents/spec.js';
import { ScenarioSchema, type Scenario } from './scenario.js';
import { formatPath } from '../format-path.js';

export { formatPath };

/** A validated scenario and where it came from (relative paths inside it resolve against `dir`). */
export interface LoadedScenario {
  scenario: Scenario;
  file: string;
  dir: string;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/**
 * One readable sentence for a zod issue; `raw` is the unvalidated input, to quote what was found, and
 * `vocabulary` the keys the schema knows, to suggest one for a misspelt key (first the keys the same
 * mapping lacks, then any).
 */
export function describeIssue(issue: z.core.$ZodIssue, raw: unknown, vocabulary: readonly string[] = []): { path: readonly PropertyKey[]; problem: string } {
  const path = issue.path;
  const found = valueAt(raw, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const guess = issue.keys.length === 1 ? closest(issue.keys[0]!, vocabulary) : undefined;
      return {
        path: issue.keys.length === 1 ? [...path, issue.keys[0]!] : path,
        problem: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}${guess ? ` (did you mean '${guess}'?)` : ''}`,
      };
    }
    case 'invalid_type':
      if (found === undefined) return { path, problem: `missing (expected ${issue.expected})` };
      if (typeof found === 'number' && !Number.isFinite(found)) {
        return { path, problem: `expected a finite number, got ${Number.isNaN(found) ? 'NaN' : 'a number too large to hold (it reads as infinity)'}` };
      }
      return { path, problem: `expected ${issue.expected}, got ${describeType(found)}` };
    case 'invalid_union': {
      const key = path.length ? path : [];
      const last = path[path.length - 1];
      if (last === 'kind') {
        return { path, problem: `unknown generator kind ${JSON.stringify(found)} (one of script, cycle, echo, markov, drift, replay)` };
      }
      if (last === 'action') {
        return { path, problem: `unknown action ${JSON.stringify(found)} (one of record, stop, perturb)` };
      }
      if (last === 'backend' || (typeof found === 'object' && found !== null && 'backend' in found)) {
        const b = last === 'backend' ? found : (found as { backend: unknown }).backend;
        return {
          path: last === 'backend' ? key : [...key, 'backend'],
          problem: b === undefined ? `missing backend (one of ${BACKENDS.join(', ')})` : `unknown backend ${JSON.stringify(b)} (one of ${BACKENDS.join(', ')})`,
        };
      }
      if (typeof found === 'object' && found !== null && 'kind' in found) {
        return { path: [...key, 'kind'], problem: `unknown generator kind ${JSON.stringify((found as { kind: unknown }).kind)} (one of script, cycle, echo, markov, drift, replay)` };
      }
      if (typeof found === 'object' && found !== null && 'action' in found) {
        return { path: [...key, 'action'], problem: `unknown action ${JSON.stringify((found as { action: unknown }).action)} (one of record, stop, perturb)` };
      }
      return { path, problem: issue.message };
    }
    case 'invalid_value':
      return { path, problem: `${JSON.stringify(found)} is not allowed (one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')})` };
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'custom':
    default:
      return { path, problem: issue.message };
  }
}

/** Parse and validate scenario text. Throws ScenarioError naming file:line:col, the path and the problem. */
export function parseScenario(text: string, file: string): Scenario {
  const source = parseYamlSource(text, file, (where, problem, cause) => {
    throw new ScenarioError(where, '', problem, { cause });
  });
  const raw = source.raw;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ScenarioError(file, '', 'expected a mapping with name and agents at the top level');
  }
  inlinePersonaFiles(raw as Record<string, unknown>, dirname(resolve(file)), source);
  const result = ScenarioSchema.safeParse(raw);
  if (!result.success) {
    const issue = firstIssue(result.error.issues);
    const { path, problem } = describeIssue(issue, raw, vocabularyFor(issue, result.error.issues));
    throw new ScenarioError(source.locate(path, { key: issue.code === 'unrecognized_keys' }), formatPath(path), problem);
  }
  checkFiles(result.data, dirname(resolve(file)), source);
  return result.data;
}

/**
 * The issue to report: an unknown key before anything else, since a misspelt key is also reported as the
 * right key missing ("generater:" leaves `generator` missing), and the typo is what the author must fix.
 */
function firstIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
  return issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
}

/** Keys to suggest for an unknown key: those missing from the same mapping first, then every key the scenario schema knows. */
function vocabularyFor(issue: z.core.$ZodIssue, issues: readonly z.core.$ZodIssue[]): string[] {
  if (issue.code !== 'unrecognized_keys') return [];
  const same = (a: readonly PropertyKey[], b: readonly PropertyKey[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  const missing = issues
    .filter((i) => i.code === 'invalid_type' && i.path.length === issue.path.length + 1 && same(i.path.slice(0, -1), issue.path))
    .map((i) => String(i.path[i.path.length - 1]));
  return [...missing, ...SCENARIO_KEYS];
}

/** Every mapping key the scenario schema knows, anywhere in it. */
const SCENARIO_KEYS = [...schemaKeys(ScenarioSchema)];

function schemaKeys(schema: unknown, seen = new Set<unknown>(), out = new Set<string>()): Set<string> {
  if (schema === null || typeof schema !== 'object' || seen.has(schema)) return out;
  seen.add(schema);
  const def = (schema as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
  if (!def) return out;
  if (def.type === 'object' && def.shape && typeof def.shape === 'object') {
    for (const [key, child] of Object.entries(def.shape as Record<string, unknown>)) {
      out.add(key);
      schemaKeys(child, seen, out);
    }
  }
  for (const k of ['innerType', 'element', 'valueType', 'in', 'out', 'left', 'right']) schemaKeys(def[k], seen, out);
  for (const k of ['options', 'items']) if (Array.isArray(def[k])) for (const o of def[k] as unknown[]) schemaKeys(o, seen, out);
  return out;
}

/** The first candidate within a small edit distance of `key` (a third of its length, at most 2), if any. */
function closest(key: string, candidates: readonly string[]): string | undefined {
  const limit = Math.min(2, Math.max(1, Math.floor(key.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/**
 * `persona: {file: sheet.md}` becomes the file's text (relative to the scenario's folder): character sheets
 * live in files. Anything else under persona is left to the schema to judge.
 */
function inlinePersonaFiles(raw: Record<string, unknown>, dir: string, source: YamlSource): void {
  const agents = raw.agents;
  if (!Array.isArray(agents)) return;
  agents.forEach((agent: unknown, i) => {
    if (agent === null || typeof agent !== 'object') return;
    const a = agent as Record<string, unknown>;
    const p = a.persona;
    if (p === null || typeof p !== 'object' || Array.isArray(p)) return;
    const keys = Object.keys(p);
    const path = ['agents', i, 'persona'];
    const fileRef = (p as Record<string, unknown>).file;
    if (keys.length !== 1 || typeof fileRef !== 'string') {
      throw new ScenarioError(source.locate(path), formatPath(path), 'expected the persona as text, or as {file: path/to/sheet.md}');
    }
    const where = resolve(dir, fileRef);
    try {
      a.persona = readFileSync(where, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ScenarioError(source.locate([...path, 'file']), formatPath([...path, 'file']), `${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})`}: ${where}`, { cause: err });
    }
  });
}

/** Files a scenario names are checked when it is loaded, so a missing one is reported where it is written. */
function checkFiles(scenario: Scenario, dir: string, source: YamlSource): void {
  scenario.agents.forEach((agent, i) => {
    const generator = (agent as { generator?: { corpusFile?: string } }).generator;
    if (generator?.corpusFile === undefined) return;
    const path = ['agents', i, 'generator', 'corpusFile'];
    const where = resolve(dir, generator.corpusFile);
    try {
      accessSync(where, constants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ScenarioError(source.locate(path), formatPath(path), `${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})`}: ${where}`, { cause: err });
    }
  });
}

export async function loadScenario(file: string): Promise<LoadedScenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ScenarioError(file, '', code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})`, { cause: err });
  }
  return { scenario: parseScenario(text, file), file, dir: dirname(resolve(file)) };
}
