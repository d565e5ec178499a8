import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { noRunsMessage } from '../find-logs.js';
import { noStartProblem } from '../../runlog/log-check.js';
import { BULK_TYPES, readLogBytes, scanEvents } from '../scan-log.js';
import { openRunLogDatabase, type RunLogDatabase } from './run-log-database.js';

/** One log as DuckDB will read it. */
interface Source {
  /** The events.jsonl as found. */
  file: string;
  /** What DuckDB reads: the file itself, or a copy without its unreadable lines. */
  read: string;
  /** Readable events DuckDB should keep (everything but deltas and embeddings). */
  events: number;
}

const isKept = (type: string) => !BULK_TYPES.has(type);

/**
 * Check one log with the same scanner `stats` uses, so `query` reports the same "file:line: skipped: …"
 * lines. A log with unreadable lines is loaded from a copy holding only its readable events: DuckDB then
 * holds exactly what the warnings say was kept (its own JSON reader would accept some lines our schema
 * rejects, and drop others without a word).
 */
function checkLog(file: string, scratch: () => string, index: number, warn: (line: string) => void): Source | undefined {
  const bytes = readLogBytes(file, warn);
  if (!bytes) return undefined;
  const problems: string[] = [];
  let events = 0;
  let started = false;
  scanEvents(bytes, file, (type) => !isKept(type), (e) => {
    if (!isKept(e.type)) return;
    events++;
    if (e.type === 'run.started') started = true;
  }, problems);
  for (const p of problems) warn(p);
  if (!started) {
    warn(noStartProblem(file));
    return undefined;
  }
  if (problems.length === 0) return { file, read: file, events };
  const lines: string[] = [];
  scanEvents(bytes, file, (type) => !isKept(type), (e, line) => {
    if (isKept(e.type)) lines.push(line);
  }, []);
  const read = join(scratch(), `${index}.jsonl`);
  writeFileSync(read, `${lines.join('\n')}\n`);
  return { file, read, events };
}

/**
 * Open the DuckDB database of `arena query` and `arena export` over the given logs, warning (never
 * silently dropping) about every unreadable line, every file that is not a run, and any event DuckDB
 * could not load. Fails with one line (exit 2) when none of the files is a run.
 */
export async function openCheckedDatabase(files: readonly string[], labels: readonly string[], warn: (line: string) => void): Promise<RunLogDatabase & { runs: number }> {
  let dir: string | undefined;
  const scratch = () => (dir ??= mkdtempSync(join(tmpdir(), 'arena-query-')));
  try {
    const sources = files.flatMap((f, i) => checkLog(f, scratch, i, warn) ?? []);
    if (sources.length === 0) throw new InputError(noRunsMessage(labels, files.length));
    const aliases = new Map(sources.filter((s) => s.read !== s.file).map((s) => [s.read, s.file]));
    const db = await openRunLogDatabase(sources.map((s) => s.read), { aliases });
    try {
      const loaded = new Map((await db.connection.runAndReadAll('SELECT file, count(*)::DOUBLE FROM events GROUP BY file')).getRows().map(([f, n]) => [String(f), Number(n)]));
      for (const s of sources) {
        const lost = s.events - (loaded.get(s.file) ?? 0);
        if (lost > 0) warn(`${s.file}: skipped: ${lost} event${lost === 1 ? '' : 's'} that DuckDB could not load`);
      }
    } catch (err) {
      db.close();
      throw err;
    }
    return { ...db, runs: sources.length };
  } finally {
    // DuckDB has read the copies into memory by now.
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
