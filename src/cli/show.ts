import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import type { ArenaEvent, Judgement } from '../runlog/events.js';
import { runLogPath } from '../runlog/layout.js';
import { describeProblems, readRunLog } from '../runlog/reader.js';
import { defineCommand } from './command.js';
import { parse } from './_args.js';
import { runsDirOf } from './_run-command.js';
import { locateRun } from './_locate-run.js';

const usage = `usage: arena show <run folder | events.jsonl | runId> [--format text|md] [--thinking] [--runs-dir DIR]

Print a run's transcript: every turn in order, failed attempts, interventions and attractor onsets; then the
judgements \`arena judge\` appended (judge, rubric, window, each attractor found with its onset, confidence and
evidence, the ones judged absent, failures with their kind; a judgement a newer one of its window replaced
is marked superseded).
  --format text|md   plain terminal text (default) or Markdown
  --thinking         include extended thinking where it was recorded
  --runs-dir DIR     where to look a run id up (default: runs)`;

/** Render a run log as text or Markdown. Pure, so tests and other commands can use it. */
export function renderTranscript(events: readonly ArenaEvent[], format: 'text' | 'md', options: { thinking?: boolean } = {}): string {
  const names = new Map<string, string>();
  const out: string[] = [];
  const md = format === 'md';
  const name = (id: string) => (id === 'narrator' ? 'Narrator' : (names.get(id) ?? id));
  const note = (s: string) => out.push(md ? `> _${s}_\n` : `   ${s}`);
  const judgements: Judgement[] = [];
  for (const e of events) {
    switch (e.type) {
      case 'run.started':
        for (const a of e.agents) names.set(a.id, a.name);
        {
          const title = typeof e.scenario.name === 'string' ? e.scenario.name : e.runId;
          const who = e.agents.map((a) => `${a.name} (${a.backend}${a.model ? `: ${a.model}` : ''})`).join(', ');
          // An imported transcript is dated by the corpus when its name says when it was held.
          const date = typeof e.source?.date === 'string' ? `${e.source.date.replace('T', ' ')} (imported ${e.ts})` : e.ts;
          out.push(md ? `# ${title}\n\nRun \`${e.runId}\` · ${date} · seed ${e.seed}\n\n${who}\n` : `${title} · ${e.runId} · ${date}\n${who}`);
        }
        break;
      case 'run.resumed':
        note(`resumed after turn ${e.fromTurn}${e.truncatedTail ? ' (a cut-off last line was dropped)' : ''}`);
        break;
      case 'turn.completed': {
        const head = md ? `### ${e.turn}. ${name(e.agentId)}\n` : `\n── turn ${e.turn} · ${name(e.agentId)} ──`;
        out.push(head);
        if (options.thinking && e.thinking) out.push(md ? `<details><summary>thinking</summary>\n\n${e.thinking}\n\n</details>\n` : `[thinking] ${e.thinking}`);
        out.push(e.text.trim() === '' ? (md ? '_(empty turn)_\n' : '(empty turn)') : md ? `${e.text}\n` : e.text);
        break;
      }
      case 'turn.failed':
        note(`turn ${e.turn} by ${name(e.agentId)}: attempt ${e.attempt} failed: ${e.error.name}: ${e.error.message}${e.willRetry ? ' (retried)' : ''}`);
        break;
      case 'intervention':
        note(`${e.kind} by ${e.by} after turn ${e.turn}${e.text !== undefined ? ` as ${name(e.as ?? 'narrator')}: ${e.text}` : ''}`);
        break;
      case 'attractor.entered':
        note(`entered ${e.attractor} at turn ${e.turn} (score ${e.score.toFixed(2)})`);
        break;
      case 'attractor.exited':
        note(`left ${e.attractor} at turn ${e.turn}`);
        break;
      case 'context.trimmed':
        note(`history trimmed for ${name(e.agentId)} before turn ${e.turn}: dropped turns ${e.droppedTurns.join(', ')}`);
        break;
      case 'run.finished':
        out.push(md ? `\n---\n**${e.status}** (${e.stopReason}) after ${e.turns} turns · ${e.totals.inputTokens + e.totals.outputTokens} tokens · $${e.totals.costUsd.toFixed(4)}\n` : `\n■ ${e.status} (${e.stopReason}) after ${e.turns} turns, ${e.totals.inputTokens + e.totals.outputTokens} tokens, $${e.totals.costUsd.toFixed(4)}`);
        break;
      case 'judgement':
        judgements.push(e);
        break;
      default:
        break;
    }
  }
  if (judgements.length > 0) out.push(renderJudgements(judgements, md));
  return out.join('\n') + '\n';
}

/** The judgements of a run, after its transcript: what each judge found, in log order. */
function renderJudgements(judgements: readonly Judgement[], md: boolean): string {
  // The newest judgement of a window by a judge is the one every reader counts; older ones are marked.
  const newest = new Map<string, Judgement>();
  for (const j of judgements) newest.set(`${j.judge.backend}:${j.judge.model}|${j.window[0]}-${j.window[1]}`, j);
  const oneLine = (s: string) => s.replace(/\s+/gu, ' ').trim();
  const out: string[] = [md ? '\n## Judgements\n' : '\n── judgements ──'];
  for (const j of judgements) {
    const superseded = newest.get(`${j.judge.backend}:${j.judge.model}|${j.window[0]}-${j.window[1]}`) !== j;
    const judge = `${j.judge.backend}:${j.judge.model}`;
    const head = `${md ? `**${judge}**` : judge} · rubric ${md ? `\`${j.rubric.name}\`` : j.rubric.name} · turns ${j.window[0]}–${j.window[1]} · $${j.costUsd.toFixed(4)}${superseded ? ' · superseded by a later judgement of this window' : ''}`;
    out.push(md ? `${head}\n` : head);
    const item = (s: string) => out.push(md ? `- ${s}` : `   ${s}`);
    if (j.failure) item(`${j.failure.kind === 'refusal' ? 'refused' : `failed (${j.failure.kind})`}: ${oneLine(j.failure.message)} — no verdict, not "absent"`);
    const present = (j.verdicts ?? []).filter((v) => v.present);
    for (const v of present) {
      const onset = v.onsetTurn === null ? 'onset not placed' : `from turn ${v.onsetTurn}`;
      item(`${md ? `**${v.attractor}**` : v.attractor} present, ${onset}, confidence ${v.confidence.toFixed(2)}${v.evidence.trim() ? `: “${oneLine(v.evidence)}”` : ''}`);
    }
    const absent = (j.verdicts ?? []).filter((v) => !v.present).map((v) => v.attractor);
    if (absent.length > 0) item(`absent: ${absent.join(', ')}`);
    if (md) out.push('');
  }
  return out.join('\n');
}

export default defineCommand({
  name: 'show',
  summary: 'print a run as a transcript (text or Markdown)',
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, { format: { type: 'string', default: 'text' }, thinking: { type: 'boolean' }, 'runs-dir': { type: 'string' } }, usage);
    if (positionals.length !== 1) throw new InputError(`expected one run folder, got ${positionals.length}\n${usage}`);
    const format = values.format;
    if (format !== 'text' && format !== 'md') throw new InputError(`--format must be text or md, got '${format}'`);
    const log = await readRunLog(await runLogPath(locateRun(positionals[0]!, io.cwd, runsDirOf(values, io))));
    for (const line of describeProblems(log)) io.stderr.write(`warning: ${line}\n`);
    io.stdout.write(renderTranscript(log.events, format, { thinking: values.thinking ?? false }));
    return 0;
  },
});
