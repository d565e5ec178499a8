import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { InputError, RunLogError } from '../errors.js';

export const LOCK_FILE = 'writer.lock';

/**
 * Who holds a lock. `bootId` (Linux: /proc/sys/kernel/random/boot_id) and `startTicks` (the holder's start
 * time, field 22 of /proc/<pid>/stat) tell the holder from a process that got the same id later, after a
 * reboot or when ids wrap. `token` names one taking of the lock, so its holder notices when another
 * process has taken it since. Lock files written before these fields existed have only pid, host and since.
 */
const LockOwnerSchema = z.object({
  pid: z.number().int(),
  host: z.string(),
  since: z.string().optional(),
  bootId: z.string().optional(),
  startTicks: z.number().optional(),
  token: z.string().optional(),
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

/** A lock file as found: its owner, when it was written (its `since`, else its mtime), when last refreshed. */
interface FoundLock {
  owner: LockOwner;
  writtenMs: number | undefined;
  /** The file's mtime: its holder touches it while it holds the lock. */
  refreshedMs: number;
}

function readOwner(path: string): FoundLock | undefined {
  try {
    const owner = parseOwner(readFileSync(path, 'utf8'));
    if (!owner) return undefined;
    const refreshedMs = statSync(path).mtimeMs;
    return { owner, writtenMs: writtenAt(owner, refreshedMs), refreshedMs };
  } catch {
    return undefined;
  }
}

async function readOwnerAsync(path: string): Promise<FoundLock | undefined> {
  try {
    const owner = parseOwner(await readFile(path, 'utf8'));
    if (!owner) return undefined;
    const refreshedMs = (await stat(path)).mtimeMs;
    return { owner, writtenMs: writtenAt(owner, refreshedMs), refreshedMs };
  } catch {
    return undefined;
  }
}

function writtenAt(owner: LockOwner, mtimeMs: number): number {
  const since = owner.since === undefined ? Number.NaN : Date.parse(owner.since);
  return Number.isFinite(since) ? since : mtimeMs;
}

const HOST = hostname();

const OWN_START_TICKS = processStartTicks(process.pid);

/** How long a lock of another host may go without being refreshed before it counts as abandoned. */
export const DEFAULT_STALE_MS = 30_000;

/**
 * `ARENA_LOCK_STALE_MS` from an environment: how long another host's lock may go unrefreshed before it is taken
 * over (the default when unset). Refused when it is not a whole number of milliseconds of at least 300.
 */
export function lockStaleMsOf(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.ARENA_LOCK_STALE_MS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_STALE_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 300) throw new InputError(`ARENA_LOCK_STALE_MS: expected a whole number of milliseconds, at least 300; got ${JSON.stringify(raw)}`);
  return ms;
}

/** A run folder is being written by a live process (or, on another host, one whose lock is still refreshed). */
export class RunLockedError extends RunLogError {
  override name = 'RunLockedError';
  constructor(
    file: string,
    problem: string,
    /** The holder is on another host: its lock is taken over once it has not been refreshed for this long from now. */
    readonly retryAfterMs?: number,
  ) {
    super(file, 0, problem);
  }
}

export interface LockOptions {
  /**
   * A lock held on another host is taken over only once it has not been refreshed for this long; the
   * holder refreshes its own every third of it. Default 30 s. Hosts' clocks must agree to well within it.
   */
  staleMs?: number;
  /**
   * Called once if the lock is lost while held: another process took it, or it could not be refreshed for
   * `staleMs` (a network folder gone). The holder must stop writing at once. Without it, the error is left
   * unhandled, which ends the process: two writers on one log are worse.
   */
  onCompromised?: (err: RunLogError) => void;
}

function lockText(token: string): string {
  const ticks = OWN_START_TICKS;
  return JSON.stringify({
    pid: process.pid,
    host: HOST,
    since: new Date().toISOString(),
    ...(BOOT_ID !== undefined ? { bootId: BOOT_ID } : {}),
    ...(ticks !== undefined ? { startTicks: ticks } : {}),
    token,
  });
}

function isMine(owner: LockOwner | undefined, token: string): boolean {
  return owner !== undefined && owner.pid === process.pid && owner.host === HOST && owner.token === token;
}

/**
 * Refuse a lock whose holder may still be writing: on this host, a live process (same pid, boot and start
 * time); on another, whose processes cannot be checked from here, a lock refreshed within `staleMs`.
 */
function refuseIfHeld(found: FoundLock | undefined, what: string, path: string, logFile: string, staleMs: number): void {
  if (!found) return;
  const { owner } = found;
  if (owner.host === HOST) {
    if (holderAlive(owner, found.writtenMs)) {
      throw new RunLockedError(
        logFile,
        `this ${what} is being written by process ${owner.pid}${owner.pid === process.pid ? ' (this one)' : ''}; if that process is gone, delete ${path}`,
      );
    }
    return;
  }
  const age = Date.now() - found.refreshedMs;
  if (age < staleMs) {
    throw new RunLockedError(
      logFile,
      `this ${what} is being written by process ${owner.pid} on host ${owner.host} (its lock ${path} was refreshed ${Math.max(0, Math.round(age / 1000))} s ago); ` +
        `it is taken over once it has not been refreshed for ${Math.round(staleMs / 1000)} s`,
      staleMs - age,
    );
  }
}

/** After taking over an abandoned lock: another process that took it over at the same moment may have won. */
function checkTakenOver(owner: LockOwner | undefined, token: string, what: string, path: string, logFile: string): void {
  if (owner?.token === token) return;
  const who = owner ? `process ${owner.pid}${owner.host === HOST ? '' : ` on host ${owner.host}`}` : 'another process';
  throw new RunLockedError(logFile, `this ${what} was taken over by ${who} at the same moment as by this one; if that process is gone, delete ${path}`);
}

/**
 * While the lock is held, touch it every third of `staleMs` so other hosts see it is alive, and check that
 * it is still ours. Returns the function that stops doing so.
 */
function keepFresh(path: string, token: string, what: string, logFile: string, options: LockOptions): () => void {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  let lastRefreshed = Date.now();
  let busy = false;
  let stopped = false;
  const lost = (problem: string, cause?: unknown) => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    const err = new RunLogError(logFile, 0, `${problem}: stopped writing this ${what}, so that two processes never write one log`, { cause });
    if (options.onCompromised) options.onCompromised(err);
    else throw err;
  };
  const couldNot = (err: unknown) => {
    if (Date.now() - lastRefreshed > staleMs) lost(`could not refresh the lock ${path} for ${Math.round(staleMs / 1000)} s: another host may have taken it`, err);
  };
  const refresh = async () => {
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return couldNot(err);
    }
    if (stopped) return;
    if (text === undefined) {
      // Deleted by hand: take it again, unless another process got there first.
      try {
        await writeFile(path, lockText(token), { flag: 'wx' });
        lastRefreshed = Date.now();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return couldNot(err);
        text = await readFile(path, 'utf8').catch(() => '');
      }
    }
    const owner = parseOwner(text);
    if (owner?.token !== token) {
      return lost(owner ? `the lock ${path} was taken by process ${owner.pid} on host ${owner.host}` : `the lock ${path} was overwritten`);
    }
    try {
      const now = new Date();
      await utimes(path, now, now);
      lastRefreshed = Date.now();
    } catch (err) {
      couldNot(err);
    }
  };
  const timer = setInterval(() => {
    if (busy || stopped) return;
    busy = true;
    void refresh().finally(() => (busy = false));
  }, Math.max(20, Math.floor(staleMs / 3)));
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/**
 * Claim a run folder for writing, so two processes (a batch and its resume, two `arena resume`s, two
 * workers sharing a network folder) never append to one log at once. The lock file names its holder and
 * is refreshed (its mtime touched) while held. A lock left by a process that died on this machine is
 * taken over at once, and so is one whose process id now belongs to another process (after a reboot: the
 * boot id or the start time differs); a live holder on this machine is refused. Another machine's
 * processes cannot be checked from here: its lock is refused while it is being refreshed, and taken over
 * once it has not been for `staleMs`. A holder whose lock was taken anyway (a race, a long pause) hears of
 * it through `onCompromised` at its next refresh. Returns the function that releases the lock.
 */
export function lockRunDir(runDir: string, logFile: string, what: 'run' | 'batch' = 'run', options: LockOptions = {}): () => void {
  const path = join(runDir, LOCK_FILE);
  const token = randomUUID();
  const text = lockText(token);
  try {
    writeFileSync(path, text, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    refuseIfHeld(readOwner(path), what, path, logFile, options.staleMs ?? DEFAULT_STALE_MS);
    writeFileSync(path, text);
    checkTakenOver(readOwner(path)?.owner, token, what, path, logFile);
  }
  const stop = keepFresh(path, token, what, logFile, options);
  return () => {
    stop();
    if (isMine(readOwner(path)?.owner, token)) {
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
export async function lockRunDirAsync(runDir: string, logFile: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const path = join(runDir, LOCK_FILE);
  const token = randomUUID();
  const text = lockText(token);
  try {
    await writeFile(path, text, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    refuseIfHeld(await readOwnerAsync(path), 'run', path, logFile, options.staleMs ?? DEFAULT_STALE_MS);
    await writeFile(path, text);
    checkTakenOver((await readOwnerAsync(path))?.owner, token, 'run', path, logFile);
  }
  const stop = keepFresh(path, token, 'run', logFile, options);
  return async () => {
    stop();
    if (isMine((await readOwnerAsync(path))?.owner, token)) await unlink(path).catch(() => {});
  };
}
