import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { EVENTS_FILE } from '../runlog/layout.js';

/**
 * A run given as a path (folder or events.jsonl) or as a run id: the id is looked up in the runs dir, also
 * inside batch folders one level down.
 */
export function locateRun(arg: string, cwd: string, runsDir: string): string {
  const asPath = resolve(cwd, arg);
  if (existsSync(asPath)) return asPath;
  if (!/[\\/]/.test(arg) && existsSync(runsDir)) {
    const direct = join(runsDir, arg);
    if (existsSync(join(direct, EVENTS_FILE))) return direct;
    for (const entry of readdirSync(runsDir, { withFileTypes: true })) {
      if (entry.isDirectory() && existsSync(join(runsDir, entry.name, arg, EVENTS_FILE))) return join(runsDir, entry.name, arg);
    }
  }
  throw new InputError(`${arg}: no such run folder or file, and no run with that id in ${runsDir}`);
}
