import { isAbsolute, resolve } from 'node:path';
import type { ArenaEvent } from '../../runlog/events.js';
import { EVENTS_FILE } from '../../runlog/layout.js';
import type { LabelRecord } from './labels.js';

/** What a run log says about which conversation it holds. */
export interface RunIdentity {
  runId: string;
  runDir: string;
  /** The events.jsonl path. */
  file: string;
  /** `source.path` of an imported run (the absolute path of the transcript file it came from). */
  sourcePath?: string;
}

/** A label record that names no run found, or names several. */
export interface Unmatched {
  label: string;
  where: string;
  reason: string;
}

export interface MatchResult {
  /** Each matched record with the events.jsonl of its run. */
  pairs: { record: LabelRecord; file: string }[];
  unmatched: Unmatched[];
}

/** How a record found its run; a more exact way wins when two records claim one run. */
const BY_RUN_ID = 3;
const BY_FOLDER = 2;
const BY_SOURCE = 1;

export function identify(events: readonly ArenaEvent[], file: string, runDir: string): RunIdentity {
  const started = events.find((e) => e.type === 'run.started');
  const runId = started?.runId ?? events[0]?.runId ?? runDir;
  const path = started?.type === 'run.started' ? started.source?.path : undefined;
  return { runId, runDir, file, ...(typeof path === 'string' && path ? { sourcePath: slashes(path) } : {}) };
}

const slashes = (p: string) => p.replaceAll('\\', '/');
const trimRef = (p: string) => slashes(p).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
const lastSegment = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** `ref` names `path` when it is the path itself or its last whole segments (`sub/a.txt` of `/x/var/sub/a.txt`). */
export function isPathSuffix(path: string, ref: string): boolean {
  const p = slashes(path);
  const r = trimRef(ref);
  if (r === '') return false;
  if (r.startsWith('/')) return p === r;
  return p === r || p.endsWith(`/${r}`);
}

/**
 * Pairs label records with runs as the runs are read: a record names a run by its runId, by its folder (or
 * events.jsonl) relative to one of `bases` or absolute, or by the source path of an imported transcript
 * (path-segment suffix, so `dreamsim2/x.txt` names a run imported from `/data/var/backrooms_logs/dreamsim2/x.txt`).
 */
export class LabelMatcher {
  private readonly byRef = new Map<string, LabelRecord[]>();
  private readonly byPath = new Map<string, LabelRecord[]>();
  private readonly bySegment = new Map<string, LabelRecord[]>();
  private readonly claims = new Map<LabelRecord, { file: string; runId: string; how: number }[]>();

  constructor(
    private readonly records: readonly LabelRecord[],
    bases: readonly string[],
  ) {
    const add = (map: Map<string, LabelRecord[]>, key: string, r: LabelRecord) => {
      const list = map.get(key) ?? [];
      if (!list.includes(r)) list.push(r);
      map.set(key, list);
    };
    for (const r of records) {
      add(this.byRef, r.ref, r);
      const ref = trimRef(r.ref);
      add(this.bySegment, lastSegment(ref), r);
      const folder = ref.endsWith(`/${EVENTS_FILE}`) ? ref.slice(0, -EVENTS_FILE.length - 1) : ref;
      for (const base of isAbsolute(folder) ? [''] : bases) add(this.byPath, slashes(resolve(base, folder)), r);
    }
  }

  /** Note the records that may name this run; true when there is any (the caller then scores the run). */
  offer(run: RunIdentity): boolean {
    const found = new Map<LabelRecord, number>();
    const note = (records: readonly LabelRecord[] | undefined, how: number) => {
      for (const r of records ?? []) found.set(r, Math.max(found.get(r) ?? 0, how));
    };
    note(this.byRef.get(run.runId), BY_RUN_ID);
    note(this.byPath.get(slashes(resolve(run.runDir))), BY_FOLDER);
    if (run.sourcePath) note(this.bySegment.get(lastSegment(run.sourcePath))?.filter((r) => isPathSuffix(run.sourcePath!, r.ref)), BY_SOURCE);
    for (const [record, how] of found) {
      const list = this.claims.get(record) ?? [];
      list.push({ file: run.file, runId: run.runId, how });
      this.claims.set(record, list);
    }
    return found.size > 0;
  }

  /** Every record either paired with exactly one run or listed as unmatched, with the reason. */
  result(): MatchResult {
    const unmatched: Unmatched[] = [];
    const single: { record: LabelRecord; file: string; runId: string; how: number }[] = [];
    for (const record of this.records) {
      const claims = this.claims.get(record) ?? [];
      if (claims.length === 0) {
        unmatched.push({ label: record.ref, where: record.where, reason: 'no run with this runId, run folder or imported source path' });
        continue;
      }
      // A runId or folder is exact; only source suffixes can be ambiguous, and the exact way wins.
      const best = Math.max(...claims.map((c) => c.how));
      const top = claims.filter((c) => c.how === best);
      if (top.length > 1) {
        const ids = top.map((c) => c.runId);
        unmatched.push({ label: record.ref, where: record.where, reason: `ambiguous: names ${top.length} runs (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''}); give a longer source path or the runId` });
        continue;
      }
      single.push({ record, ...top[0]! });
    }
    // Two records naming the same run: the more exact one (then the longer path, then the first) labels it.
    const owner = new Map<string, (typeof single)[number]>();
    const rank = (c: (typeof single)[number]) => [c.how, trimRef(c.record.ref).length] as const;
    for (const c of single) {
      const held = owner.get(c.file);
      if (!held) {
        owner.set(c.file, c);
        continue;
      }
      const [ha, hb] = rank(held);
      const [ca, cb] = rank(c);
      const loser = ca > ha || (ca === ha && cb > hb) ? held : c;
      const winner = loser === held ? c : held;
      owner.set(c.file, winner);
      unmatched.push({ label: loser.record.ref, where: loser.record.where, reason: `its run ${loser.runId} is labelled already by ${winner.record.where} (${winner.record.ref})` });
    }
    const pairs = single.filter((c) => owner.get(c.file) === c).map((c) => ({ record: c.record, file: c.file }));
    const order = new Map(this.records.map((r, i) => [r.where, i]));
    unmatched.sort((a, b) => (order.get(a.where) ?? 0) - (order.get(b.where) ?? 0));
    return { pairs, unmatched };
  }
}
