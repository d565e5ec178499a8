import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Run folders of a batch whose log has a run.finished. */
export function finishedRuns(batchDir: string): string[] {
  return readdirSync(batchDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(batchDir, d.name, 'events.jsonl')))
    .filter((d) => readFileSync(join(batchDir, d.name, 'events.jsonl'), 'utf8').includes('"type":"run.finished"'))
    .map((d) => d.name);
}

/**
 * Some run has completed a turn but not finished. With `atMostTurns`, one that has completed no more than that
 * many: a run near its end may finish in the moment between this check and a kill, and then nothing is left
 * to resume.
 */
export function midRun(batchDir: string, atMostTurns = Number.POSITIVE_INFINITY): boolean {
  return readdirSync(batchDir, { withFileTypes: true }).some((d) => {
    if (!d.isDirectory()) return false;
    const file = join(batchDir, d.name, 'events.jsonl');
    if (!existsSync(file)) return false;
    const text = readFileSync(file, 'utf8');
    if (text.includes('"type":"run.finished"')) return false;
    const completed = text.split('"type":"turn.completed"').length - 1;
    return completed >= 1 && completed <= atMostTurns;
  });
}

/** Poll `probe` until it gives a value (files on disk have no event to await). */
export async function until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
