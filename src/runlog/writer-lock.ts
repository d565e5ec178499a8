import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { RunLogError } from '../errors.js';

export const LOCK_FILE = 'writer.lock';

interface LockOwner {
  pid: number;
  host: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && typeof (value as LockOwner).pid === 'number' && typeof (value as LockOwner).host === 'string') {
      return { pid: (value as LockOwner).pid, host: (value as LockOwner).host };
    }
  } catch {
    // Unreadable or half-written: treat as stale.
  }
  return undefined;
}

function readOwner(path: string): LockOwner | undefined {
  try {
    return parseOwner(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

async function readOwnerAsync(path: string): Promise<LockOwner | undefined> {
  try {
    return parseOwner(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

const HOST = hostname();

function held(owner: LockOwner | undefined, what: string, path: string, logFile: string): void {
  if (owner && owner.host === HOST && alive(owner.pid)) {
    throw new RunLogError(
      logFile,
      0,
      `this ${what} is being written by process ${owner.pid}${owner.pid === process.pid ? ' (this one)' : ''}; if that process is gone, delete ${path}`,
    );
  }
}

/**
 * Claim a run folder for writing, so two processes (a batch and its resume, two `arena resume`s) never append
 * to one log at once. A lock left by a process that died on this machine is taken over; one held by a live
 * process is refused. A lock from another machine cannot be checked and is taken over: across machines the
 * queue (BullMQ's job lock) decides who owns a run. Returns the function that releases the lock.
 */
export function lockRunDir(runDir: string, logFile: string, what: 'run' | 'batch' = 'run'): () => void {
  const path = join(runDir, LOCK_FILE);
  const text = JSON.stringify({ pid: process.pid, host: HOST, since: new Date().toISOString() });
  try {
    writeFileSync(path, text, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    held(readOwner(path), what, path, logFile);
    writeFileSync(path, text);
  }
  return () => {
    const owner = readOwner(path);
    if (owner && owner.pid === process.pid && owner.host === HOST) {
      try {
        unlinkSync(path);
      } catch {
        // Already gone: nothing to release.
      }
    }
  };
}

/**
 * While a batch runs, its run folders have no lock files of their own: the batch's lock covers them. A
 * command that writes to one run of a batch (resume, analyze --write) takes the batch lock first, so it is
 * refused while the batch is being run. Returns the release (a no-op for a run outside any batch).
 */
export function lockBatchOfRun(runDir: string, batchManifest = 'batch.json'): () => void {
  const batchDir = dirname(runDir);
  const manifest = join(batchDir, batchManifest);
  return existsSync(manifest) ? lockRunDir(batchDir, manifest, 'batch') : () => {};
}

/** `lockRunDir` off the main thread: for starting many runs at once. Resolves to the async release. */
export async function lockRunDirAsync(runDir: string, logFile: string): Promise<() => Promise<void>> {
  const path = join(runDir, LOCK_FILE);
  const text = JSON.stringify({ pid: process.pid, host: HOST, since: new Date().toISOString() });
  try {
    await writeFile(path, text, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    held(await readOwnerAsync(path), 'run', path, logFile);
    await writeFile(path, text);
  }
  return async () => {
    const owner = await readOwnerAsync(path);
    if (owner && owner.pid === process.pid && owner.host === HOST) await unlink(path).catch(() => {});
  };
}
