import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.js';

/** The name of a run's log inside its folder: `<runs-dir>/[<batchId>/]<runId>/events.jsonl` (see DESIGN.md). */
export const EVENTS_FILE = 'events.jsonl';

/** The log file of the run in `runDir`. */
export const eventsFileOf = (runDir: string): string => join(runDir, EVENTS_FILE);

/** The events.jsonl of a run given as a run folder or the file itself. */
export async function runLogPath(runOrFile: string): Promise<string> {
  const abs = resolve(runOrFile);
  const info = await stat(abs).catch(() => undefined);
  // A path the user typed that is not there is bad input (exit 2), not a broken log.
  if (!info) throw new InputError(`${runOrFile}: no such run folder or file`);
  return info.isDirectory() ? eventsFileOf(abs) : abs;
}

/**
 * Every events.jsonl at any depth under the given folders (or the files themselves), sorted, once each;
 * hidden folders and node_modules are passed over. A path that is not there is bad input; a folder that
 * cannot be listed fails the search, unless `skipUnreadable` (the viewer, which scans a runs dir that
 * other processes change under it, and may not exist yet).
 */
export async function findRunLogs(paths: readonly string[], options: { skipUnreadable?: boolean } = {}): Promise<string[]> {
  const found = new Set<string>();
  async function walk(dir: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (options.skipUnreadable) return;
      throw err;
    }
    for (const e of entries) {
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && !e.name.startsWith('.')) await walk(join(dir, e.name));
      } else if (e.name === EVENTS_FILE) {
        found.add(join(dir, e.name));
      }
    }
  }
  for (const p of paths) {
    const abs = resolve(p);
    const info = await stat(abs).catch(() => undefined);
    if (!info) {
      if (options.skipUnreadable) continue;
      throw new InputError(`${p}: no such file or folder`);
    }
    if (info.isDirectory()) await walk(abs);
    else found.add(abs);
  }
  return [...found].sort();
}
