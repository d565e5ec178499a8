import { join } from 'node:path';
import { describe, it } from 'vitest';
import { readRunLog } from '../../src/runlog/reader.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';

// Every test spawns the CLI and owns its folders, so they run side by side (with the context's expect).
// Each test spawns a demo that loads the offline embedder (about 2 CPU-seconds); side by side on a loaded 2-core
// machine they can take longer than the default 30 s, so the suite allows them 90.
describe.concurrent('arena demo (the new-user path)', { timeout: 90_000 }, () => {
  it('--no-view --max-turns 12 --json --fast: exit 0, the JSON line, and a complete run log', async (ctx) => {
    const { expect } = ctx;
    const dir = tempDir(ctx);
    const runsDir = join(dir, 'runs');
    const res = await runCli(['demo', '--no-view', '--max-turns', '12', '--json', '--fast', '--runs-dir', runsDir], { cwd: dir });
    expect(res.stderr).not.toContain('    at ');
    expect(res.code).toBe(0);
    const out = lastJsonLine(res.stdout) as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual(['attractors', 'runDir', 'runId', 'status', 'stopReason', 'turns']);
    expect(out).toMatchObject({ status: 'completed', stopReason: 'max_turns', turns: 12 });
    expect(out.runDir).toBe(join(runsDir, out.runId as string));
    // Under --json, stdout holds nothing but that line (the transcript goes to stderr).
    expect(res.stdout.trimEnd().split('\n')).toHaveLength(1);

    const log = await readRunLog(join(out.runDir as string, 'events.jsonl'));
    expect(log.problems).toEqual([]);
    expect(log.truncatedTail).toBe(false);
    const { events } = log;
    expect(events[0]!.type).toBe('run.started');
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'completed', stopReason: 'max_turns', turns: 12 });
    const turns = events.filter((e) => e.type === 'turn.completed');
    expect(turns.map((e) => e.turn)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(turns.map((e) => e.agentId)).toEqual(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 'ada' : 'basho')));
    for (let i = 1; i < events.length; i++) expect(events[i]!.seq).toBeGreaterThan(events[i - 1]!.seq);
    expect(new Set(events.map((e) => e.runId))).toEqual(new Set([out.runId]));
    // The demo drifts: research talk early, the bliss register after the onset.
    const text = (from: number, to: number) => turns.slice(from - 1, to).map((e) => e.text).join(' ');
    expect(text(2, 7)).not.toMatch(/consciousness|gratitude|🌀|eternal/);
    expect(text(11, 12)).toMatch(/consciousness|gratitude|🌀|eternal|universe|love|✨|🙏|silence/);
    // The JSON names the attractors the run entered, with the first turn of each, as the log's attractor.entered say.
    const first = new Map<string, number>();
    for (const e of events) if (e.type === 'attractor.entered' && !first.has(e.attractor)) first.set(e.attractor, e.turn);
    expect(first.has('spiritual_bliss')).toBe(true);
    expect(out.attractors).toEqual([...first].map(([name, onsetTurn]) => ({ name, onsetTurn })).sort((a, b) => a.onsetTurn - b.onsetTurn || a.name.localeCompare(b.name)));
  });

  it('is the same conversation under the same seed, and another with another seed', async (ctx) => {
    const { expect } = ctx;
    const dir = tempDir(ctx);
    const texts = async (seed: string) => {
      const runsDir = join(dir, `runs-${seed}-${Math.random()}`);
      const res = await runCli(['demo', '--no-view', '--max-turns', '6', '--json', '--fast', '--quiet', '--seed', seed, '--runs-dir', runsDir], { cwd: dir });
      expect(res.code).toBe(0);
      const { runDir } = lastJsonLine(res.stdout) as { runDir: string };
      return (await readRunLog(join(runDir, 'events.jsonl'))).events.flatMap((e) => (e.type === 'turn.completed' ? [e.text] : []));
    };
    const [a, again, other] = await Promise.all([texts('21'), texts('21'), texts('22')]);
    expect(again).toEqual(a);
    expect(other).not.toEqual(a);
  });

  it('prints the transcript to stdout without --json, and show renders the run as Markdown', async (ctx) => {
    const { expect } = ctx;
    const dir = tempDir(ctx);
    const runsDir = join(dir, 'runs');
    const res = await runCli(['demo', '--no-view', '--max-turns', '3', '--fast', '--runs-dir', runsDir], { cwd: dir });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('── turn 1 · Ada ──');
    expect(res.stdout).toContain('Shall we compare notes from this week?');
    // The first line says what is going on while the embedder loads, before any turn.
    expect(res.stdout.split('\n')[0]).toBe('arena demo: two scripted personas, no key, no network; loading the offline embedding model for the drift chart…');
    const logLine = res.stdout.trimEnd().split('\n').at(-1)!;
    expect(logLine).toMatch(/^run log: .*events\.jsonl$/);
    const file = logLine.slice('run log: '.length);
    const runDir = join(file, '..');
    const log = await readRunLog(file);
    const turns = log.events.filter((e) => e.type === 'turn.completed');

    const md = await runCli(['show', runDir, '--format', 'md'], { cwd: dir });
    expect(md.code).toBe(0);
    expect(md.stderr).toBe('');
    expect(md.stdout.startsWith('# demo\n')).toBe(true);
    expect(md.stdout).toContain(`Run \`${log.events[0]!.runId}\``);
    expect(md.stdout).toContain('### 1. Ada\n');
    expect(md.stdout).toContain('### 2. Basho\n');
    expect(md.stdout).toContain('### 3. Ada\n');
    // Every turn's text appears, in order.
    let at = 0;
    for (const t of turns) {
      const i = md.stdout.indexOf(t.type === 'turn.completed' ? t.text : '', at);
      expect(i).toBeGreaterThan(at);
      at = i;
    }
    expect(md.stdout).toContain('**completed** (max_turns) after 3 turns');

    const text = await runCli(['show', file], { cwd: dir });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('── turn 2 · Basho ──');
    expect(text.stdout).not.toContain('###');
  });

  it('show warns about a cut-off last line on stderr and still prints the rest', async (ctx) => {
    const { expect } = ctx;
    const dir = tempDir(ctx);
    const runsDir = join(dir, 'runs');
    const res = await runCli(['demo', '--no-view', '--max-turns', '2', '--fast', '--json', '--quiet', '--runs-dir', runsDir], { cwd: dir });
    const { runDir } = lastJsonLine(res.stdout) as { runDir: string };
    const { appendFileSync } = await import('node:fs');
    appendFileSync(join(runDir, 'events.jsonl'), '{"v":1,"seq":99,"ty');
    const shown = await runCli(['show', runDir, '--format', 'md'], { cwd: dir });
    expect(shown.code).toBe(0);
    expect(shown.stderr).toMatch(/^warning: .*events\.jsonl: the last line was cut off mid-write/);
    expect(shown.stdout).toContain('### 2. Basho');
  });

  it('show rejects an unknown format as bad input', async (ctx) => {
    const { expect } = ctx;
    const dir = tempDir(ctx);
    const res = await runCli(['show', dir, '--format', 'html'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--format must be text or md/);
  });
});

describe.concurrent('arena command line', () => {
  it('the built CLI is executable, so npx arena can run it', async (ctx) => {
    const { expect } = ctx;
    const { statSync } = await import('node:fs');
    const { CLI } = await import('../helpers/cli.js');
    expect(statSync(CLI).mode & 0o111).not.toBe(0);
  });

  it('an unknown command exits 2 with a hint', async (ctx) => {
    const { expect } = ctx;
    const res = await runCli(['frobnicate']);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe("arena: unknown command 'frobnicate' (try: arena --help)\n");
  });

  it('bad flags and log levels exit 2 with one line, before any run starts', async (ctx) => {
    const { expect } = ctx;
    for (const args of [['demo', '--bogus'], ['demo', '--no-view', '--log-level', 'loud'], ['run', 'x.yaml', '--max-turns', 'many']]) {
      const res = await runCli(args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr.trimEnd().split('\n'), res.stderr).toHaveLength(1);
      expect(res.stderr).not.toContain('    at ');
    }
    const env = await runCli(['demo', '--no-view', '--fast', '--max-turns', '1'], { env: { ARENA_LOG_LEVEL: 'chatty' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/ARENA_LOG_LEVEL must be one of/);
  });

  it('--help lists the commands and exits 0; no command prints help and exits 2', async (ctx) => {
    const { expect } = ctx;
    const res = await runCli(['--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^usage: arena <command>/);
    for (const name of ['demo', 'run', 'resume', 'show']) expect(res.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    const bare = await runCli([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toMatch(/^usage: arena <command>/);
  });

  it('<command> --help prints that command\'s usage', async (ctx) => {
    const { expect } = ctx;
    const res = await runCli(['demo', '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^usage: arena demo/);
    expect(res.stdout).toContain('--max-turns N');
  });

  it('an unknown flag or a bad number is a usage error (exit 2), not a stack trace', async (ctx) => {
    const { expect } = ctx;
    const dir = tempDir(ctx);
    const flag = await runCli(['demo', '--no-view', '--bogus'], { cwd: dir });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--bogus/);
    expect(flag.stderr).not.toContain('    at ');
    const num = await runCli(['demo', '--no-view', '--max-turns', 'zero', '--runs-dir', join(dir, 'runs')], { cwd: dir });
    expect(num.code).toBe(2);
    expect(num.stderr).toBe("arena demo: --max-turns expects a whole number ≥ 1, got 'zero'\n");
  });
});
