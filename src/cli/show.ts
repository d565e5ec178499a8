import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import type { ArenaEvent } from '../runlog/events.js';
import { runLogPath } from '../runlog/layout.js';
import { describeProblems, readRunLog } from '../runlog/reader.js';
import { defineCommand } from './command.js';
import { parse } from './_args.js';
import { runsDirOf } from './_run-command.js';
import { locateRun } from './_locate-run.js';

const usage = `usage: arena show <run folder | events.jsonl | runId> [--format text|md] [--thinking] [--runs-dir DIR]

Print a run's transcript: every turn in order, failed attempts, interventions and attractor onsets.
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
      default:
        break;
    }
  }
  return out.join('\n') + '\n';
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
