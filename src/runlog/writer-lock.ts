import { existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { RunLogError } from '../errors.js';

export const LOCK_FILE = 'writer.lock';

/**
 * Who holds a lock. `bootId` (Linux: /proc/sys/kernel/random/boot_id) and `startTicks` (the holder's start
 * time, field 22 of /proc/<pid>/stat) tell the holder from a process that got the same id later, after a
 * reboot or when ids wrap. Lock files written before these fields existed have only pid, host and since.
 */
const LockOwnerSchema = z.object({
  pid: z.number().int(),
  host: z.string(),
  since: z.string().optional(),
  bootId: z.string().optional(),
  startTicks: z.number().optional(),
});
type LockOwner = z.infer<typeof LockOwnerSchema>;

/** Clock ticks per second of /proc/<pid>/stat start times: USER_HZ, 100 on every mainstream Linux build. */
const TICKS_PER_SEC = 100;

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const BOOT_ID = readProc('/proc/sys/kernel/random/boot_id')?.trim() || undefined;

/** When the process started, in clock ticks since boot; undefined without /proc or when it is gone. */
export function processStartTicks(pid: number): number | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name (field 2) is in parentheses and may itself hold spaces or ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

/** Boot time in ms since the epoch (btime in /proc/stat). */
function bootTimeMs(): number | undefined {
  const m = /^btime (\d+)$/m.exec(readProc('/proc/stat') ?? '');
  return m ? Number(m[1]) * 1000 : undefined;
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

/**
 * Whether the lock's holder still runs. A live process with the recorded id is the holder only if it is
 * the same process: same boot, same start time. For an old lock without those, a process that started
 * after the lock was written cannot have written it.
 */
function holderAlive(owner: LockOwner, lockWrittenMs: number | undefined): boolean {
  if (!alive(owner.pid)) return false;
  if (owner.bootId !== undefined && BOOT_ID !== undefined && owner.bootId !== BOOT_ID) return false;
  const ticks = processStartTicks(owner.pid);
  if (owner.startTicks !== undefined && ticks !== undefined) return owner.startTicks === ticks;
  const boot = bootTimeMs();
  if (ticks !== undefined && boot !== undefined && lockWrittenMs !== undefined) {
    // A second of slack: btime is whole seconds.
    return boot + (ticks * 1000) / TICKS_PER_SEC <= lockWrittenMs + 1000;
  }
  return true;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const parsed = LockOwnerSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // Unreadable or half-written: treat as stale.
  }
  return undefined;
}

/** The owner and when the lock was written (its `since`, else the file's mtime). */
function readOwner(path: string): { owner: LockOwner; writtenMs: number | undefined } | undefined {
  try {
    const owner = parseOwner(readFileSync(path, 'utf8'));
    return owner ? { owner, writtenMs: writtenAt(owner, () => statSync(path).mtimeMs) } : undefined;
  } catch {
    return undefined;
  }
}

async function readOwnerAsync(path: string): Promise<{ owner: LockOwner; writtenMs: number | undefined } | undefined> {
  try {
    const owner = parseOwner(await readFile(path, 'utf8'));
    const mtime = owner && owner.since === undefined ? (await stat(path)).mtimeMs : undefined;
    return owner ? { owner, writtenMs: writtenAt(owner, () => mtime) } : undefined;
  } catch {
    return undefined;
  }
}

function writtenAt(owner: LockOwner, mtime: () => number | undefined): number | undefined {
  const since = owner.since === undefined ? Number.NaN : Date.parse(owner.since);
  return Number.isFinite(since) ? since : mtime();
}

const HOST = hostname();

const OWN_START_TICKS = processStartTicks(process.pid);

function lockText(): string {
  const ticks = OWN_START_TICKS;
  return JSON.stringify({
    pid: process.pid,
    host: HOST,
    since: new Date().toISOString(),
    ...(BOOT_ID !== undefined ? { bootId: BOOT_ID } : {}),
    ...(ticks !== undefined ? { startTicks: ticks } : {}),
  });
}

function isMine(owner: LockOwner | undefined): boolean {
  return owner !== undefined && owner.pid === process.pid && owner.host === HOST;
}

function held(found: { owner: LockOwner; writtenMs: number | undefined } | undefined, what: string, path: string, logFile: string): void {
  const owner = found?.owner;
  if (owner && owner.host === HOST && holderAlive(owner, found.writtenMs)) {
    throw new RunLogError(
      logFile,
      0,
      `this ${what} is being written by process ${owner.pid}${owner.pid === process.pid ? ' (this one)' : ''}; if that process is gone, delete ${path}`,
    );
  }
}

/**
 * Claim a run folder for writing, so two processes (a batch and its resume, two `arena resume`s) never append
 * to one log at once. A lock left by a process that died on this machine is taken over, and so is one whose
 * process id now belongs to another process (after a reboot: the boot id or the start time differs); one
 * held by a live holder is refused. A lock from another machine cannot be checked and is taken over:
 * across machines the queue (BullMQ's job lock) decides who owns a run. Returns the function that releases the lock.
 */
export function lockRunDir(runDir: string, logFile: string, what: 'run' | 'batch' = 'run'): () => void {
  const path = join(runDir, LOCK_FILE);
  const text = lockText();
  try {
    writeFileSync(path, text, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    held(readOwner(path), what, path, logFile);
    writeFileSync(path, text);
  }
  return () => {
    if (isMine(readOwner(path)?.owner)) {
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
  const text = lockText();
  try {
    await writeFile(path, text, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    held(await readOwnerAsync(path), 'run', path, logFile);
    await writeFile(path, text);
  }
  return async () => {
    if (isMine((await readOwnerAsync(path))?.owner)) await unlink(path).catch(() => {});
  };
}
