import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseBackrooms } from './backrooms.js';
import { parseShareGpt } from './sharegpt.js';
import { parseSpeakerJsonl } from './speaker-jsonl.js';
import { RunLogError } from '../../errors.js';
import { SkipFile, type ImportedTranscript, type SkippedConversation } from './transcript.js';
import { writeImportedRun } from './write-run.js';

export const IMPORT_FORMATS = ['backrooms', 'sharegpt', 'jsonl'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** The `import --json` contract. */
export interface ImportResult {
  imported: number;
  turns: number;
  runsDir: string;
  skipped: { path: string; reason: string }[];
  /** Extra: files imported with a repair (stray NUL bytes removed). */
  warnings: { path: string; warning: string }[];
  /** Extra: the runs written, in order. */
  runs: { runId: string; runDir: string; path: string; turns: number }[];
}

/** File names a folder is searched for, per format; files named directly are always read. */
const EXTENSIONS: Record<ImportFormat, RegExp> = {
  backrooms: /\.txt$/i,
  sharegpt: /\.jsonl?$/i,
  jsonl: /\.jsonl$/i,
};

function parse(format: ImportFormat, text: string, path: string): (ImportedTranscript | SkippedConversation)[] {
  switch (format) {
    case 'backrooms':
      return [parseBackrooms(text, path)];
    case 'sharegpt':
      return parseShareGpt(text, path);
    case 'jsonl':
      return [parseSpeakerJsonl(text, path)];
    default: {
      const never: never = format;
      return never;
    }
  }
}

/** Above this share of NUL characters a file is taken for binary, not a transcript with a few stray ones. */
const MAX_NUL_SHARE = 0.01;

function countNul(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\0'); i !== -1; i = text.indexOf('\0', i + 1)) n++;
  return n;
}

async function collect(paths: readonly string[], pattern: RegExp, skipped: ImportResult['skipped']): Promise<string[]> {
  const files: string[] = [];
  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) await walk(join(dir, e.name));
      else if (pattern.test(e.name)) files.push(join(dir, e.name));
    }
  }
  for (const p of paths) {
    const abs = resolve(p);
    const info = await stat(abs).catch(() => undefined);
    if (!info) skipped.push({ path: p, reason: 'no such file or folder' });
    else if (info.isDirectory()) await walk(abs);
    else files.push(abs);
  }
  return files;
}

/**
 * Import every transcript found under `paths` into `runsDir`. A file that cannot be read or parsed is
 * skipped with its reason; the others are still imported.
 */
export async function importPaths(format: ImportFormat, paths: readonly string[], runsDir: string, now: Date = new Date()): Promise<ImportResult> {
  const result: ImportResult = { imported: 0, turns: 0, runsDir: resolve(runsDir), skipped: [], warnings: [], runs: [] };
  for (const file of await collect(paths, EXTENSIONS[format], result.skipped)) {
    try {
      // A byte-order mark would hide the first turn header (and break JSON.parse).
      const raw = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
      let text = raw;
      const nuls = countNul(raw);
      if (nuls > 0) {
        // A few stray NUL bytes (a crashed writer, a terminal capture) are dropped; a file made of them is binary.
        if (nuls > raw.length * MAX_NUL_SHARE) throw new SkipFile('not a text file');
        text = raw.replaceAll('\0', '');
        result.warnings.push({ path: file, warning: `removed ${nuls} stray NUL byte${nuls === 1 ? '' : 's'}` });
      }
      const transcripts = parse(format, text, file);
      for (const t of transcripts) {
        if ('reason' in t) {
          result.skipped.push({ path: `${file}#${t.index + 1}`, reason: t.reason });
          continue;
        }
        const where = typeof t.source.index === 'number' ? `${file}#${t.source.index + 1}` : file;
        try {
          const run = writeImportedRun(result.runsDir, t, now);
          result.imported++;
          result.turns += run.turns;
          result.runs.push({ ...run, path: where });
        } catch (err) {
          if (!(err instanceof SkipFile)) throw err;
          result.skipped.push({ path: where, reason: err.message });
        }
      }
    } catch (err) {
      // A log that could not be written (a full disk) names its file and the reason itself.
      const reason = err instanceof SkipFile || err instanceof RunLogError ? err.message : `cannot read (${(err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err))})`;
      result.skipped.push({ path: file, reason });
    }
  }
  return result;
}
