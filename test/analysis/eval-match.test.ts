import { describe, expect, it } from 'vitest';
import type { LabelRecord } from '../../src/analysis/eval/labels.js';
import { isPathSuffix, LabelMatcher, type RunIdentity } from '../../src/analysis/eval/match.js';

const rec = (ref: string, where: string): LabelRecord => ({ ref, where, labels: new Map([['silence', { present: false, onsetTurn: null }]]) });
const run = (runId: string, runDir: string, sourcePath?: string): RunIdentity => ({ runId, runDir, file: `${runDir}/events.jsonl`, ...(sourcePath ? { sourcePath } : {}) });

describe('matching label records to runs', () => {
  it('source paths match on whole trailing segments only', () => {
    expect(isPathSuffix('/data/var/backrooms_logs/sub/a_b.txt', 'sub/a_b.txt')).toBe(true);
    expect(isPathSuffix('/data/var/backrooms_logs/sub/a_b.txt', 'a_b.txt')).toBe(true);
    expect(isPathSuffix('/data/var/backrooms_logs/sub/a_b.txt', './sub/a_b.txt')).toBe(true);
    expect(isPathSuffix('/data/var/backrooms_logs/sub/xa_b.txt', 'a_b.txt')).toBe(false);
    expect(isPathSuffix('/data/var/backrooms_logs/other/a_b.txt', 'sub/a_b.txt')).toBe(false);
    expect(isPathSuffix('/data/a_b.txt', '/elsewhere/a_b.txt')).toBe(false);
    expect(isPathSuffix('/data/a_b.txt', '/data/a_b.txt')).toBe(true);
  });

  it('pairs by runId, by run folder (relative to a base) and by imported source path; lists the rest', () => {
    const records = [rec('run-1', 'line 1'), rec('batch/run-2', 'line 2'), rec('sub/c.txt', 'line 3'), rec('gone.txt', 'line 4')];
    const m = new LabelMatcher(records, ['/work']);
    expect(m.offer(run('run-1', '/runs/run-1'))).toBe(true);
    expect(m.offer(run('run-2', '/work/batch/run-2'))).toBe(true);
    expect(m.offer(run('run-3', '/runs/run-3', '/corpus/var/backrooms_logs/sub/c.txt'))).toBe(true);
    expect(m.offer(run('run-4', '/runs/run-4', '/corpus/var/backrooms_logs/sub/d.txt'))).toBe(false);
    const { pairs, unmatched } = m.result();
    expect(pairs.map((p) => [p.record.ref, p.file])).toEqual([
      ['run-1', '/runs/run-1/events.jsonl'],
      ['batch/run-2', '/work/batch/run-2/events.jsonl'],
      ['sub/c.txt', '/runs/run-3/events.jsonl'],
    ]);
    expect(unmatched).toEqual([{ label: 'gone.txt', where: 'line 4', reason: 'no run with this runId, run folder or imported source path' }]);
  });

  it('a source path naming two runs is unmatched as ambiguous, never paired with either', () => {
    const m = new LabelMatcher([rec('c.txt', 'record 0'), rec('one/c.txt', 'record 1')], []);
    m.offer(run('r1', '/runs/r1', '/corpus/one/c.txt'));
    m.offer(run('r2', '/runs/r2', '/corpus/two/c.txt'));
    const { pairs, unmatched } = m.result();
    expect(pairs.map((p) => p.record.where)).toEqual(['record 1']);
    expect(unmatched).toHaveLength(1);
    expect(unmatched[0]!.where).toBe('record 0');
    expect(unmatched[0]!.reason).toMatch(/^ambiguous: names 2 runs \(r1, r2\)/);
  });

  it('two records naming one run: the more exact one labels it, the other is listed', () => {
    const m = new LabelMatcher([rec('c.txt', 'record 0'), rec('r1', 'record 1')], []);
    m.offer(run('r1', '/runs/r1', '/corpus/c.txt'));
    const { pairs, unmatched } = m.result();
    expect(pairs.map((p) => p.record.where)).toEqual(['record 1']);
    expect(unmatched).toEqual([{ label: 'c.txt', where: 'record 0', reason: 'its run r1 is labelled already by record 1 (r1)' }]);
  });
});
