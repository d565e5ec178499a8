import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { parseYamlSource } from '../yaml-source.js';
import { z } from 'zod';
import { describeIssue } from '../arena/load-scenario.js';
import { InputError, ScenarioError } from '../errors.js';
import { formatPath } from '../format-path.js';
import { AttractorDefinitionSchema, LexiconSchema, type AttractorDefinition } from './attractor.js';
import { BUILTIN_ATTRACTORS, BUILTIN_NAMES, builtinAttractor } from './builtin.js';
import { applyCalibration, loadCalibrationFile, type Calibration } from './calibration.js';

/**
 * An entry of an attractor file: a full definition, or `extends: <name>` plus only what changes.
 * Extending merges lexicons (a weight of 0 removes a term), appends exemplars and overrides the rest.
 */
const EntrySchema = z.strictObject({
  ...AttractorDefinitionSchema.shape,
  extends: z.string().optional(),
  signal: AttractorDefinitionSchema.shape.signal.optional(),
  lexicon: LexiconSchema.partial().optional(),
  exemplars: z.array(z.string().min(1)).optional(),
  saturation: z.number().positive().optional(),
  minWords: z.number().int().nonnegative().optional(),
  maxWords: z.number().int().positive().optional(),
  minEmoji: z.number().int().nonnegative().optional(),
  embeddingWeight: z.number().min(0).max(1).optional(),
  similarityRange: z.tuple([z.number(), z.number()]).optional(),
  thresholds: z.strictObject({ enter: z.number(), exit: z.number(), enterTurns: z.number(), exitTurns: z.number() }).partial().optional(),
});
type Entry = z.infer<typeof EntrySchema>;

const FileSchema = z.union([z.strictObject({ attractors: z.array(EntrySchema) }), z.array(EntrySchema), EntrySchema]);

/** Parse attractor definitions from YAML text (one mapping, a list, or `attractors: [...]`). */
export function parseAttractors(text: string, file: string, known: readonly AttractorDefinition[] = BUILTIN_ATTRACTORS): AttractorDefinition[] {
  const source = parseYamlSource(text, file, (where, problem, cause) => {
    throw new ScenarioError(where, '', problem, { cause });
  });
  const raw = source.raw;
  const fail = (path: readonly PropertyKey[], problem: string): never => {
    throw new ScenarioError(source.locate(path), formatPath(path), problem);
  };
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) {
    // The union hides the useful issue; validate as the shape the file most looks like.
    const shape = Array.isArray(raw) ? z.array(EntrySchema) : raw && typeof raw === 'object' && 'attractors' in raw ? z.strictObject({ attractors: z.array(EntrySchema) }) : EntrySchema;
    const issue = shape.safeParse(raw).error?.issues[0] ?? parsed.error.issues[0]!;
    const d = describeIssue(issue, raw);
    return fail(d.path, d.problem);
  }
  const data = parsed.data;
  const entries: Entry[] = Array.isArray(data) ? data : 'attractors' in data ? data.attractors : [data];
  const prefix: PropertyKey[] = !Array.isArray(data) && 'attractors' in data ? ['attractors'] : [];
  const out: AttractorDefinition[] = [];
  entries.forEach((entry, i) => {
    const at = Array.isArray(data) || prefix.length > 0 ? [...prefix, i] : [];
    const pool = [...out, ...known];
    const base = entry.extends === undefined ? undefined : pool.find((d) => d.name === entry.extends);
    if (entry.extends !== undefined && !base) {
      fail([...at, 'extends'], `no attractor named '${entry.extends}' (built in: ${BUILTIN_NAMES.join(', ')})`);
    }
    const result = AttractorDefinitionSchema.safeParse(base ? merge(base, entry) : withoutExtends(entry));
    if (!result.success) {
      const d = describeIssue(result.error.issues[0]!, entry);
      fail([...at, ...d.path], d.problem);
    } else {
      out.push(result.data);
    }
  });
  return out;
}

export async function loadAttractorFile(file: string, known?: readonly AttractorDefinition[]): Promise<AttractorDefinition[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such attractor file' : `cannot read (${code ?? String(err)})`}`, { cause: err });
  }
  return parseAttractors(text, file, known);
}

/**
 * The attractors a scenario's `detectors` list names: built-in names, `all` (or `*`) for the whole
 * library, paths to YAML files (resolved against `baseDir`) whose definitions add to or replace
 * built-ins of the same name, and paths to calibration files (.json, from `arena detect fit`) whose fitted
 * detectors replace those of the attractors listed. No list means the whole library. Order: as listed, each once.
 */
export async function resolveDetectors(specs: readonly string[] | undefined, baseDir: string, extra: readonly AttractorDefinition[] = []): Promise<AttractorDefinition[]> {
  const out = new Map<string, AttractorDefinition>();
  const add = (d: AttractorDefinition) => out.set(d.name, d);
  const calibrations: Calibration[] = [];
  for (const spec of specs ?? ['all']) {
    if (/\.json$/i.test(spec)) {
      calibrations.push(await loadCalibrationFile(isAbsolute(spec) ? spec : resolve(baseDir, spec)));
    } else if (spec === 'all' || spec === '*') {
      for (const d of BUILTIN_ATTRACTORS) if (!out.has(d.name)) add(extra.find((x) => x.name === d.name) ?? d);
    } else if (/\.ya?ml$/i.test(spec) || spec.includes('/')) {
      const file = isAbsolute(spec) ? spec : resolve(baseDir, spec);
      for (const d of await loadAttractorFile(file, [...out.values(), ...extra, ...BUILTIN_ATTRACTORS])) add(d);
    } else {
      const d = extra.find((x) => x.name === spec) ?? out.get(spec) ?? builtinAttractor(spec);
      if (!d) throw new InputError(`unknown attractor '${spec}' (built in: ${BUILTIN_NAMES.join(', ')}; or give a .yaml file)`);
      add(d);
    }
  }
  let defs = [...out.values()];
  if (calibrations.length > 0 && defs.length === 0) defs = [...BUILTIN_ATTRACTORS];
  for (const c of calibrations) defs = applyCalibration(defs, c);
  return defs;
}

function withoutExtends(entry: Entry): Omit<Entry, 'extends'> {
  const { extends: _, ...rest } = entry;
  return rest;
}

function merge(base: AttractorDefinition, entry: Entry): unknown {
  const { extends: _, lexicon, exemplars, thresholds, ...scalars } = entry;
  const weights = (a: Record<string, number>, b: Record<string, number> | undefined) =>
    Object.fromEntries(Object.entries({ ...a, ...(b ?? {}) }).filter(([, w]) => w !== 0));
  return {
    ...base,
    ...Object.fromEntries(Object.entries(scalars).filter(([, v]) => v !== undefined)),
    lexicon: {
      words: weights(base.lexicon.words, lexicon?.words),
      phrases: weights(base.lexicon.phrases, lexicon?.phrases),
      emoji: weights(base.lexicon.emoji, lexicon?.emoji),
      patterns: [...base.lexicon.patterns, ...(lexicon?.patterns ?? [])],
    },
    exemplars: [...base.exemplars, ...(exemplars ?? [])],
    thresholds: { ...base.thresholds, ...(thresholds ?? {}) },
  };
}
