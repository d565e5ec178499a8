import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRunLogs } from '../../src/runlog/layout.js';
import { InputError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp-dir.js';

function touch(...parts: string[]): string {
  const file = join(...parts);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, '');
  return file;
}

describe('findRunLogs', () => {
  it('finds events.jsonl at any depth, sorted, each once', async () => {
    const root = tempDir();
    const direct = touch(root, 'events.jsonl');
    const run = touch(root, 'run-1', 'events.jsonl');
    const batch = touch(root, 'batch-7', 'run-2', 'events.jsonl');
    const deep = touch(root, 'a', 'b', 'c', 'd', 'events.jsonl');
    touch(root, 'run-1', 'arena.log');
    touch(root, 'run-1', 'events.jsonl.bak');
    mkdirSync(join(root, 'empty'));
    const found = await findRunLogs([root]);
    expect(found).toEqual([direct, run, batch, deep].sort());
    // Overlapping inputs and a file given directly do not duplicate anything.
    expect(await findRunLogs([root, join(root, 'batch-7'), batch])).toEqual(found);
  });

  it('skips hidden folders and node_modules', async () => {
    const root = tempDir();
    const kept = touch(root, 'r', 'events.jsonl');
    touch(root, '.trash', 'r', 'events.jsonl');
    touch(root, 'node_modules', 'pkg', 'events.jsonl');
    expect(await findRunLogs([root])).toEqual([kept]);
  });

  it('a path that does not exist is bad input naming it', async () => {
    const root = tempDir();
    const missing = join(root, 'nowhere');
    await expect(findRunLogs([missing])).rejects.toBeInstanceOf(InputError);
    await expect(findRunLogs([missing])).rejects.toThrow(missing);
  });
});
