import { ArenaError, InputError } from '../errors.js';
import { findRunLogs } from '../runlog/layout.js';

/**
 * Every events.jsonl under the folders, or a one-line InputError (exit 2) when there is none: an empty
 * answer to a question about no runs would look like "no attractors" rather than "wrong folder".
 * `labels` are the folders as the user typed them, for the message.
 */
export async function findLogsOrFail(paths: readonly string[], labels: readonly string[] = paths): Promise<string[]> {
  let files: string[];
  try {
    files = await findRunLogs(paths);
  } catch (err) {
    if (err instanceof ArenaError) throw err;
    // A folder that cannot be listed (permissions, a file vanishing mid-walk) is the user's to fix.
    throw new InputError(`cannot read the run folders: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err });
  }
  if (files.length === 0) throw new InputError(`no events.jsonl found under ${labels.join(', ')}`);
  return files;
}

/** The message when logs were found but none is a run (no run.started anywhere). */
export function noRunsMessage(labels: readonly string[], files: number): string {
  return `no runs under ${labels.join(', ')}: ${files === 1 ? 'the events.jsonl found has no' : `none of the ${files} events.jsonl files found has a`} run.started event`;
}
