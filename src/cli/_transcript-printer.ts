import type { ArenaEvent } from '../runlog/events.js';
import type { RunObserver } from '../arena/observer.js';
import { fitLine } from '../text-width.js';

const COLOURS = ['\x1b[36m', '\x1b[35m', '\x1b[33m', '\x1b[32m', '\x1b[34m', '\x1b[31m'];
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

/** Writes a run to a terminal as it happens: a header per turn, tokens as they stream, notes for the rest. */
export function transcriptPrinter(
  out: NodeJS.WritableStream,
  options: {
    colour: boolean;
    names: Map<string, string>;
    /** A terminal: a waiting turn's status line is redrawn in place (else a line every 10 s of waiting). */
    live?: boolean;
  },
): RunObserver {
  const order = [...options.names.keys()];
  const paint = (agentId: string, s: string) => {
    if (!options.colour) return s;
    const i = order.indexOf(agentId);
    return `${COLOURS[(i < 0 ? order.length : i) % COLOURS.length]}${s}${RESET}`;
  };
  const dim = (s: string) => (options.colour ? `${DIM}${s}${RESET}` : s);
  const name = (id: string) => (id === 'narrator' ? 'Narrator' : (options.names.get(id) ?? id));
  let midLine = false;
  const endLine = () => {
    if (midLine) out.write('\n');
    midLine = false;
  };
  // The line that says a turn is waiting: redrawn in place on a terminal, wiped before anything else prints.
  let statusShown = false;
  let lastBucket = '';
  // Rounded: heartbeats come about once a second and may run a few ms early by the wall clock.
  const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
  return {
    deltas: true,
    onEvent(e: ArenaEvent) {
      if (statusShown && e.type !== 'turn.waiting') {
        out.write('\r\x1b[2K');
        statusShown = false;
      }
      switch (e.type) {
        case 'turn.waiting': {
          if (midLine) break;
          const since = e.attempt > 1 ? `, ${secs(e.elapsedMs)} since the turn began` : '';
          const line = `   … waiting for ${name(e.agentId)}: no answer after ${secs(e.attemptElapsedMs)} on attempt ${e.attempt}${since}`;
          if (options.live) {
            out.write(`\r\x1b[2K${dim(fitLine(line, out))}`);
            statusShown = true;
            break;
          }
          const bucket = `${e.turn}:${e.attempt}:${Math.floor(e.attemptElapsedMs / 10_000)}`;
          if (e.attemptElapsedMs >= 10_000 && bucket !== lastBucket) out.write(`${line}\n`);
          lastBucket = bucket;
          break;
        }
        case 'turn.started':
          endLine();
          out.write(paint(e.agentId, `\n── turn ${e.turn} · ${name(e.agentId)} ──\n`));
          break;
        case 'turn.delta':
          if (e.channel === 'thinking') break;
          out.write(e.text);
          midLine = !e.text.endsWith('\n');
          break;
        case 'turn.completed':
          if (e.empty) out.write(dim('(empty turn)'));
          endLine();
          break;
        case 'turn.failed':
          endLine();
          if (e.aborted) {
            out.write(dim(`   ■ turn ${e.turn} cut short by the stop (its partial text stays in the log, not counted as a turn)\n`));
            break;
          }
          out.write(dim(`   ✗ attempt ${e.attempt} failed: ${e.error.name}: ${e.error.message}${e.willRetry ? ' (retrying)' : ''}\n`));
          break;
        case 'intervention':
          endLine();
          out.write(dim(`   ▸ ${e.kind} by ${e.by}${e.text ? ` as ${name(e.as ?? 'narrator')}: ${e.text}` : ''}\n`));
          break;
        case 'attractor.entered':
          endLine();
          out.write(dim(`   ◆ entered ${e.attractor} at turn ${e.turn} (score ${e.score.toFixed(2)})\n`));
          break;
        case 'attractor.exited':
          endLine();
          out.write(dim(`   ◇ left ${e.attractor} at turn ${e.turn}\n`));
          break;
        case 'context.trimmed':
          endLine();
          out.write(dim(`   ✂ history trimmed for ${name(e.agentId)}: dropped turns ${e.droppedTurns.join(', ')}\n`));
          break;
        case 'run.finished':
          endLine();
          out.write(dim(`\n■ ${e.status} (${e.stopReason}) after ${e.turns} turns, ${e.totals.inputTokens + e.totals.outputTokens} tokens, $${e.totals.costUsd.toFixed(4)}\n`));
          break;
        default:
          break;
      }
    },
  };
}
