import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCK_FILE, lockRunDir, lockRunDirAsync, processStartTicks } from '../../src/runlog/writer-lock.js';

const DIST_LOCK = resolve(fileURLToPath(import.meta.url), '../../../dist/runlog/writer-lock.js');
const BOOT_ID = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** A live process that is not an arena process (the pid a reboot hands to someone else). */
async function bystander(): Promise<number> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(child);
  await new Promise((r) => child.once('spawn', r));
  return child.pid!;
}

function folderWithLock(owner: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'arena-lock-'));
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(owner));
  return dir;
}

const owner = (dir: string) => JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number; bootId?: string; startTicks?: number };

describe('writer lock', () => {
  it('records the boot id and the start time of its holder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arena-lock-'));
    const unlock = lockRunDir(dir, join(dir, 'events.jsonl'));
    expect(owner(dir)).toMatchObject({ pid: process.pid, host: hostname(), bootId: BOOT_ID, startTicks: processStartTicks(process.pid) });
    unlock();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('takes over a lock whose pid is alive but started at another time (an id reused)', async () => {
    const pid = await bystander();
    const ticks = processStartTicks(pid)!;
    const dir = folderWithLock({ pid, host: hostname(), since: new Date().toISOString(), bootId: BOOT_ID, startTicks: ticks - 500 });
    const unlock = lockRunDir(dir, join(dir, 'events.jsonl'));
    expect(owner(dir).pid).toBe(process.pid);
    unlock();
  });

  it('takes over a lock written before a reboot (another boot id), even when the pid is alive', async () => {
    const pid = await bystander();
    const dir = folderWithLock({ pid, host: hostname(), since: new Date().toISOString(), bootId: '00000000-1111-2222-3333-444444444444', startTicks: processStartTicks(pid) });
    const unlock = await lockRunDirAsync(dir, join(dir, 'events.jsonl'));
    expect(owner(dir).pid).toBe(process.pid);
    await unlock();
  });

  it('reads an old lock (pid, host, since only): taken over when the live pid started after it was written', async () => {
    const pid = await bystander();
    const dir = folderWithLock({ pid, host: hostname(), since: new Date(Date.now() - 3_600_000).toISOString() });
    const unlock = lockRunDir(dir, join(dir, 'events.jsonl'));
    expect(owner(dir).pid).toBe(process.pid);
    unlock();
  });

  it('respects an old lock whose live pid started before it was written', async () => {
    const pid = await bystander();
    const dir = folderWithLock({ pid, host: hostname(), since: new Date(Date.now() + 5_000).toISOString() });
    expect(() => lockRunDir(dir, join(dir, 'events.jsonl'))).toThrow(new RegExp(`being written by process ${pid};`));
  });

  it('respects a lock held by a live process', async () => {
    expect(existsSync(DIST_LOCK), `${DIST_LOCK} is missing: run \`npm run build\` first`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'arena-lock-'));
    const holder = spawn(
      process.execPath,
      ['--input-type=module', '-e', `import { lockRunDir } from ${JSON.stringify(DIST_LOCK)}; lockRunDir(${JSON.stringify(dir)}, 'events.jsonl'); console.log('locked'); setInterval(() => {}, 1000);`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(holder);
    await new Promise<void>((r) => holder.stdout!.once('data', () => r()));
    expect(owner(dir)).toMatchObject({ pid: holder.pid, bootId: BOOT_ID, startTicks: processStartTicks(holder.pid!) });
    expect(() => lockRunDir(dir, join(dir, 'events.jsonl'), 'batch')).toThrow(new RegExp(`this batch is being written by process ${holder.pid}; if that process is gone, delete`));
    await expect(lockRunDirAsync(dir, join(dir, 'events.jsonl'))).rejects.toThrow(/being written by process/);
    // Its own process holds it too: a second claim from here is refused, naming this process.
    const mine = mkdtempSync(join(tmpdir(), 'arena-lock-'));
    const unlock = lockRunDir(mine, 'events.jsonl');
    expect(() => lockRunDir(mine, 'events.jsonl')).toThrow(/\(this one\)/);
    unlock();
  });
});
