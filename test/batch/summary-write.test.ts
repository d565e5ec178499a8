import { existsSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSummary, type BatchSummary } from '../../src/batch/summary.js';
import { tempDir } from '../helpers/tmp-dir.js';

const SUMMARY: BatchSummary = {
  batchId: 'b1',
  batchDir: '/x',
  finishedAt: '2026-01-01T00:00:00.000Z',
  stoppedBy: null,
  runs: { planned: 1, completed: 0, failed: 1, skipped: 0, interrupted: 0 },
  turns: 3,
  costUsd: 0,
  results: [],
  skipped: [],
  unknown: [],
};

describe('writeSummary', () => {
  it('writes summary.json and summary.md', () => {
    const dir = tempDir();
    expect(writeSummary(dir, SUMMARY)).toBeUndefined();
    expect(readdirSync(dir).sort()).toEqual(['summary.json', 'summary.md']);
  });

  it.skipIf(!existsSync('/dev/full'))('on a full disk says so instead of throwing, and leaves no temporary file', () => {
    const dir = tempDir();
    // The temporary file the summary is written through lands on /dev/full: every write gets ENOSPC.
    symlinkSync('/dev/full', join(dir, `summary.json.${process.pid}.tmp`));
    expect(writeSummary(dir, SUMMARY)).toBe(`${join(dir, 'summary.json')}: could not be written (the disk is full, ENOSPC)`);
    expect(readdirSync(dir)).toEqual([]);
  });
});
