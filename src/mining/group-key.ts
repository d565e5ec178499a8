import type { RunSummary } from './run-summary.js';

/** How runs are grouped: the default condition, one group for everything, or field paths. */
export type Grouping = { kind: 'default' } | { kind: 'none' } | { kind: 'fields'; paths: string[][] };

/** `--by` text → grouping. Several fields may be joined with commas (`scenario.name,meta.cell.temperature`). */
export function parseGrouping(by: string | undefined): Grouping {
  if (by === undefined || by === '' || by === 'default') return { kind: 'default' };
  if (by === 'none') return { kind: 'none' };
  return { kind: 'fields', paths: by.split(',').map((f) => f.trim().split('.').filter(Boolean)).filter((p) => p.length > 0) };
}

/**
 * The object `--by` paths are resolved against: the run.started event (scenario, agents, meta, source,
 * seed, limits) plus the end state, so `finished.stopReason` and `status` group too.
 */
function groupView(s: RunSummary): Record<string, unknown> {
  return {
    ...(s.started ?? {}),
    runId: s.runId,
    file: s.file,
    finished: s.finished,
    status: s.finished?.status ?? 'unfinished',
    stopReason: s.finished?.stopReason ?? 'unfinished',
  };
}

function lookup(root: unknown, path: readonly string[]): unknown {
  let cur: unknown = root;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** A value as a group label: agents by model, arrays joined with ×, objects as JSON. */
function render(value: unknown): string {
  if (value === undefined || value === null) return '(none)';
  if (typeof value === 'string') return value === '' ? '(empty)' : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(render).join(' × ');
  if (typeof value === 'object') {
    const model = (value as Record<string, unknown>).model;
    if (typeof model === 'string') return model || '(none)';
    return JSON.stringify(value);
  }
  return String(value);
}

/** A run's group: its factors (name → value) and the readable key built from them. */
export interface GroupLabel {
  key: string;
  /** Factor → value: scenario, pairing or models, temperature, forkTurn, forkCondition; or the --by fields. */
  factors: Record<string, string>;
}

/** Cell fields that are replicates of one condition, not conditions: pooled in the default grouping. */
const POOLED_CELL_FIELDS = new Set(['index', 'scenario', 'scenarioFile', 'pairing', 'repetition', 'seed', 'fork']);

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The run's batch cell (`meta.cell` as a batch writes it: with a scenario and a pairing), else undefined. */
function batchCell(s: RunSummary): Record<string, unknown> | undefined {
  const cell = isRecord(s.started?.meta) ? s.started.meta.cell : undefined;
  return isRecord(cell) && typeof cell.scenario === 'string' && 'pairing' in cell ? cell : undefined;
}

/** The fork facts of a forked run: from its cell, else from `meta.fork`. */
function forkFacts(s: RunSummary, cell: Record<string, unknown> | undefined): { atTurn: unknown; condition: unknown } | undefined {
  const meta = s.started?.meta;
  const fork = isRecord(cell?.fork) ? cell.fork : isRecord(meta) && isRecord(meta.fork) ? meta.fork : undefined;
  return fork && fork.atTurn !== undefined ? { atTurn: fork.atTurn, condition: fork.condition } : undefined;
}

/**
 * The default condition of a run. A batch run: its matrix cell (scenario × pairing × parameter values such as
 * temperature), repetitions, seeds and plan positions pooled; with the scenario's own agents (no pairing) the
 * agents' models stand for the pairing. A run outside a batch: scenario name × agents' models. A forked run
 * adds the fork turn and condition.
 */
function defaultFactors(s: RunSummary): Record<string, string> {
  const started = s.started!;
  const cell = batchCell(s);
  const factors: Record<string, string> = {};
  if (cell) {
    factors.scenario = render(cell.scenario);
    if (Array.isArray(cell.pairing)) factors.pairing = render(cell.pairing);
    else factors.models = render(started.agents);
    for (const [k, v] of Object.entries(cell)) if (!POOLED_CELL_FIELDS.has(k) && v !== undefined) factors[k] = render(v);
  } else {
    factors.scenario = typeof started.scenario.name === 'string' ? started.scenario.name : '(unnamed)';
    factors.models = render(started.agents);
  }
  const fork = forkFacts(s, cell);
  if (fork) {
    factors.forkTurn = render(fork.atTurn);
    factors.forkCondition = render(fork.condition);
  }
  return factors;
}

/** A default group's key: "chat · blissy × wedder · T=0.7 · fork at 8: resample". */
function defaultKey(f: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(f)) {
    if (k === 'scenario' || k === 'pairing' || k === 'models') parts.push(v);
    else if (k === 'temperature') parts.push(`T=${v}`);
    else if (k === 'forkTurn') parts.push(`fork at ${v}: ${f.forkCondition ?? '?'}`);
    else if (k !== 'forkCondition') parts.push(`${k}=${v}`);
  }
  return parts.join(' · ');
}

export function groupOf(s: RunSummary, grouping: Grouping): GroupLabel {
  switch (grouping.kind) {
    case 'none':
      return { key: 'all', factors: {} };
    case 'default': {
      if (!s.started) return { key: '(unknown)', factors: {} };
      const factors = defaultFactors(s);
      return { key: defaultKey(factors), factors };
    }
    case 'fields': {
      const view = groupView(s);
      const values = grouping.paths.map((p) => [p.join('.'), render(lookup(view, p))] as const);
      return { key: values.map(([name, v]) => (values.length > 1 ? `${name}=${v}` : v)).join(' · '), factors: Object.fromEntries(values) };
    }
    default: {
      const never: never = grouping;
      return never;
    }
  }
}

export function groupKey(s: RunSummary, grouping: Grouping): string {
  return groupOf(s, grouping).key;
}

/** Whether a run is grouped by its batch cell under the default grouping. */
export function isBatchRun(s: RunSummary): boolean {
  return batchCell(s) !== undefined;
}

/** The grouping a result used, for the line printed above every table. */
export interface GroupingUsed {
  description: string;
  /** The factors groups are told apart by (union over the groups, in key order). */
  factors: string[];
}

const FACTOR_WORDS: Record<string, string> = { scenario: 'scenario', pairing: 'pairing', models: "agents' models", temperature: 'temperature', forkTurn: 'fork turn', forkCondition: 'fork condition' };

/** Factor names in first-seen order over the groups. */
function unionFactors(groups: readonly { factors: Readonly<Record<string, string>> }[]): string[] {
  return [...new Set(groups.flatMap((g) => Object.keys(g.factors)))];
}

/** Describe the grouping used, from the groups found (`batch`: grouped by their batch cell). */
export function describeGrouping(grouping: Grouping, groups: readonly { factors: Readonly<Record<string, string>>; batch: boolean }[]): GroupingUsed {
  const factors = unionFactors(groups);
  const words = (names: readonly string[]) => names.map((n) => FACTOR_WORDS[n] ?? n).join(' × ');
  switch (grouping.kind) {
    case 'none':
      return { description: 'one group of every run (--by none)', factors: [] };
    case 'fields':
      return { description: `by ${words(factors)} (--by)`, factors };
    case 'default': {
      const batch = groups.filter((g) => g.batch);
      const other = groups.filter((g) => !g.batch);
      const parts: string[] = [];
      if (batch.length > 0) parts.push(`${other.length > 0 ? 'batch runs by ' : ''}the cells of the batch matrix: ${words(unionFactors(batch))} (repetitions and seeds pooled)`);
      if (other.length > 0) parts.push(`${batch.length > 0 ? 'other runs by ' : ''}${words(unionFactors(other))}`);
      return { description: parts.join('; '), factors };
    }
    default: {
      const never: never = grouping;
      return never;
    }
  }
}

/** Fields that say nothing about a run's condition, left out of suggestions. */
const PLUMBING = new Set(['v', 'seq', 'ts', 'type', 'file', 'runId']);
/** Runs whose fields are sampled for suggestions: enough to see the usual shapes, cheap on big sets. */
const SAMPLED_RUNS = 20;
/** Suggestions shown first when nothing resembles the asked-for field. */
const USUAL = ['scenario.name', 'agents', 'seed', 'status', 'stopReason'];

/** Leaf paths of a value, up to three levels deep; arrays count as leaves (they group as `a × b`). */
function leafPaths(value: unknown, prefix: string, depth: number, out: Set<string>): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || depth === 0) {
    if (prefix) out.add(prefix);
    return;
  }
  for (const [k, v] of Object.entries(value)) leafPaths(v, prefix ? `${prefix}.${k}` : k, depth - 1, out);
}

/**
 * Catches a `--by` field that no run has, which would otherwise put every run into one '(none)' group.
 * Feed it every run, then ask for the problem.
 */
export class FieldCheck {
  private readonly paths: string[][];
  private readonly seen: boolean[];
  private readonly known = new Set<string>();
  private sampled = 0;

  constructor(grouping: Grouping) {
    this.paths = grouping.kind === 'fields' ? grouping.paths : [];
    this.seen = this.paths.map(() => false);
  }

  observe(s: RunSummary): void {
    if (this.paths.length === 0 || !s.started) return;
    const view = groupView(s);
    this.paths.forEach((p, i) => {
      if (!this.seen[i] && lookup(view, p) !== undefined) this.seen[i] = true;
    });
    if (this.sampled++ < SAMPLED_RUNS) leafPaths(view, '', 3, this.known);
  }

  /** A one-line message when some field is held by no run (after at least one run was seen), else undefined. */
  problem(): string | undefined {
    if (this.sampled === 0) return undefined;
    const i = this.seen.indexOf(false);
    if (i === -1) return undefined;
    const field = this.paths[i]!.join('.');
    return `--by ${field}: no run has this field; fields the runs have include ${this.suggest(this.paths[i]!).join(', ')} (or --by none)`;
  }

  private suggest(path: readonly string[]): string[] {
    const last = path.at(-1)!.toLowerCase();
    // A misspelt last part usually keeps its first letters or sits inside the right name.
    const alike = (tail: string) => tail.includes(last) || last.includes(tail) || (tail.length >= 3 && last.startsWith(tail.slice(0, 3)));
    const rank = (f: string): number => {
      const parts = f.toLowerCase().split('.');
      const samePrefix = path.length > 1 && parts[0] === path[0]!.toLowerCase();
      if (samePrefix && alike(parts.at(-1)!)) return 0;
      if (samePrefix) return 1;
      if (alike(parts.at(-1)!)) return 2;
      const usual = USUAL.indexOf(f);
      return usual === -1 ? 4 + USUAL.length : 3 + usual;
    };
    const fields = [...this.known].filter((f) => !PLUMBING.has(f.split('.')[0]!));
    return fields.map((f, i) => ({ f, r: rank(f), i })).sort((a, b) => a.r - b.r || a.i - b.i).slice(0, 6).map((x) => x.f);
  }
}
