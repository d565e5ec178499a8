import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
// Static imports and re-exports, and dynamic imports of a literal path.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

/** The files of ours a source file imports (relative specifiers only), as paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(SPECIFIER)]
    .map((m) => m[1]!)
    .filter((s) => s.startsWith('.'))
    .map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Every file reachable from `entry` through our own imports, entry included, relative to src/. */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const next of importsOf(file)) walk(next);
  };
  walk(entry);
  return new Set([...seen].map((f) => relative(SRC, f)));
}

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts'))
    .map((d) => join(d.parentPath, d.name));
}

describe('the batch process child', () => {
  it('reaches neither the CLI nor the app wiring through its imports: its runs get their observers from the module the pool names', () => {
    const files = reachable(join(SRC, 'batch/_process-child.ts'));
    // The walk does follow the child's imports.
    expect(files).toContain('batch/start-or-resume.ts');
    expect(files).toContain('arena/run.ts');
    expect([...files].filter((f) => f.startsWith('cli/') || f.startsWith('app/'))).toEqual([]);
  });

  it('no file of src/batch imports src/cli or src/app (both sit above it)', () => {
    const upward = sourcesUnder(join(SRC, 'batch')).flatMap((file) =>
      importsOf(file)
        .map((target) => relative(SRC, target))
        .filter((target) => target.startsWith('cli/') || target.startsWith('app/'))
        .map((target) => `${relative(SRC, file)} → ${target}`),
    );
    expect(upward).toEqual([]);
  });
});
