import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The structure drawn from the imports of src/**\/*.ts (DESIGN.md, "Layout"): no circle of files, and no import
 * from a lower layer to a higher one. Type-only imports count: a circle of types is still a circle for a reader.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * DESIGN.md's layers, top to bottom, as folders of src/. Folders of one layer are peers and may import each other
 * (without a circle). Files directly in src/ (errors, clock, seeded random, logger, usage, …) are the small shared
 * modules at the bottom, with src/stats/.
 */
const TOP_LEVEL = '';
const LAYERS: readonly { name: string; folders: readonly string[] }[] = [
  { name: 'cli', folders: ['cli'] },
  { name: 'app', folders: ['app'] },
  { name: 'viewer, batch, judge, mining', folders: ['viewer', 'batch', 'judge', 'mining'] },
  { name: 'analysis', folders: ['analysis'] },
  { name: 'arena', folders: ['arena', 'fork'] },
  { name: 'agents', folders: ['agents'] },
  { name: 'runlog', folders: ['runlog'] },
  { name: 'the small shared modules', folders: [TOP_LEVEL, 'stats'] },
];

interface Edge {
  from: string;
  to: string;
}

interface KnownException extends Edge {
  /** The item of issue 14 whose change removes this import. */
  item: number;
  why: string;
}

/**
 * Imports that still break the rules and that another item of issue 14 removes. The test fails when one of them
 * no longer breaks a rule (or is gone): take it off the list, so the list only shrinks.
 */
const KNOWN_EXCEPTIONS: readonly KnownException[] = [];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every import of one src file by another: static, type-only, re-exports and literal dynamic imports. */
function importGraph(): { files: string[]; edges: Edge[]; unresolved: string[] } {
  const files = sourceFiles('src').sort();
  const known = new Set(files);
  const edges: Edge[] = [];
  const unresolved: string[] = [];
  for (const from of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(ROOT, from), 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = posix.normalize(posix.join(posix.dirname(from), fileName));
      if (target.endsWith('.json')) continue;
      const to = target.replace(/\.js$/u, '.ts');
      if (known.has(to)) edges.push({ from, to });
      else unresolved.push(`${from} imports '${fileName}', which is no .ts file under src/`);
    }
  }
  return { files, edges, unresolved };
}

/** The rank of a file's layer, 0 = top; undefined for a folder DESIGN.md does not place. */
function layerOf(file: string): number | undefined {
  const parts = file.split('/');
  const folder = parts.length === 2 ? TOP_LEVEL : parts[1]!;
  const rank = LAYERS.findIndex((layer) => layer.folders.includes(folder));
  return rank < 0 ? undefined : rank;
}

function layerName(file: string): string {
  return LAYERS[layerOf(file)!]!.name;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function circles(files: readonly string[], edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) next.get(e.from)!.push(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || next.get(v)!.includes(v)) found.push(component.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return found;
}

const key = (e: Edge): string => `${e.from} -> ${e.to}`;

/** One circle, drawn as the imports between its files. */
function describeCircle(component: readonly string[], edges: readonly Edge[]): string {
  const inside = new Set(component);
  const lines = edges.filter((e) => inside.has(e.from) && inside.has(e.to)).map((e) => `    ${key(e)}`);
  return `  a circle of ${component.length} files:\n${lines.join('\n')}`;
}

describe('the structure drawn from the imports', () => {
  const { files, edges, unresolved } = importGraph();
  const upward = edges.filter((e) => layerOf(e.to)! < layerOf(e.from)!);
  const circleOf = new Map(circles(files, edges).flatMap((c, i) => c.map((f) => [f, i] as const)));
  const exceptions = new Set(KNOWN_EXCEPTIONS.map(key));

  it('sees the source files and resolves every relative import', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(edges.length).toBeGreaterThan(300);
    expect(unresolved.join('\n')).toBe('');
  });

  it('places every file in a layer of DESIGN.md', () => {
    const unplaced = files.filter((f) => layerOf(f) === undefined);
    expect(unplaced.join('\n'), 'files in folders DESIGN.md does not place (add the folder to LAYERS)').toBe('');
  });

  it('has no import from a lower layer to a higher one', () => {
    const violations = upward
      .filter((e) => !exceptions.has(key(e)))
      .map((e) => `  ${key(e)}  (from ${layerName(e.from)} up to ${layerName(e.to)})`);
    expect(violations.join('\n'), 'imports that run up the layers').toBe('');
  });

  it('has no circle of files', () => {
    // Known exceptions are left out of the graph, so a circle they close is reported only if it outlives them.
    const rest = edges.filter((e) => !exceptions.has(key(e)));
    const found = circles(files, rest).map((c) => describeCircle(c, rest));
    expect(found.join('\n'), 'circles of imports').toBe('');
  });

  it('lists only known exceptions that still break a rule', () => {
    const present = new Set(edges.map(key));
    const upwardKeys = new Set(upward.map(key));
    const stale = KNOWN_EXCEPTIONS.filter((x) => {
      if (!present.has(key(x))) return true;
      const inCircle = circleOf.has(x.from) && circleOf.get(x.from) === circleOf.get(x.to);
      return !upwardKeys.has(key(x)) && !inCircle;
    }).map((x) => `  ${key(x)}  (issue 14 item ${x.item})`);
    expect(stale.join('\n'), 'known exceptions that no longer break a rule: remove them from KNOWN_EXCEPTIONS').toBe('');
  });
});
