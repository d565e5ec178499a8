import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SubscribeOptions } from '../../src/arena/event-bus.js';
import type { LiveStatus, RunHandle, RunResult } from '../../src/arena/run-handle.js';
import type { RunCommand } from '../../src/arena/observer.js';
import type { AgentInfo, ArenaEvent, EventBody, RunStatus } from '../../src/runlog/events.js';

/**
 * A RunHandle driven by hand: each call writes its events to a real events.jsonl (synchronously,
 * before subscribers hear of them, as a log writer would) and honours pause/resume/stop/inject the way
 * the runner does (pause holds the next turn; inject and stop are recorded as intervention events).
 * It keeps its persisted events and replays them to `subscribe(…, { afterSeq })` like a run started with
 * keepEvents, unless built with `keepsEvents: false` (then a viewer follows its log).
 */
export class FakeRun implements RunHandle {
  readonly runDir: string;
  readonly info: RunHandle['info'];
  readonly done: Promise<RunResult>;
  readonly commands: RunCommand[] = [];
  readonly published: ArenaEvent[] = [];
  private seq = 0;
  private state: LiveStatus = 'starting';
  private turns = 0;
  private readonly listeners = new Set<(event: ArenaEvent) => void>();
  private readonly waiters: { match: (e: ArenaEvent) => boolean; resolve: (e: ArenaEvent) => void }[] = [];
  private resumed: (() => void)[] = [];
  private finishDone!: (result: RunResult) => void;
  /** While set, log lines wait in memory (a buffered writer); flushWrites() writes them. */
  holdWrites = false;
  private held: string[] = [];

  constructor(
    runsDir: string,
    readonly runId: string,
    readonly agents: AgentInfo[] = [
      { id: 'a', name: 'Alice', backend: 'scripted', model: 'script' },
      { id: 'b', name: 'Bob', backend: 'scripted', model: 'script' },
    ],
    readonly scenario = 'fake-scenario',
    readonly keepsEvents = true,
  ) {
    this.runDir = join(runsDir, runId);
    mkdirSync(this.runDir, { recursive: true });
    this.info = { scenario, agents: agents.map((a) => ({ ...a })) };
    this.done = new Promise((resolve) => {
      this.finishDone = resolve;
    });
  }

  get logPath(): string {
    return join(this.runDir, 'events.jsonl');
  }

  subscribe(listener: (event: ArenaEvent) => void, options: SubscribeOptions = {}): () => void {
    if (options.afterSeq !== undefined) {
      if (!this.keepsEvents) throw new Error(`fake run ${this.runId} keeps no events`);
      for (const event of this.published) if (event.seq > options.afterSeq) listener(event);
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  lastSeq(): number {
    return this.seq;
  }

  status(): LiveStatus {
    return this.state;
  }

  send(command: RunCommand): void {
    this.commands.push(command);
    switch (command.type) {
      case 'pause':
        if (this.state !== 'running') return;
        this.state = 'paused';
        this.publish({ type: 'intervention', turn: this.turns, kind: 'pause', by: command.by });
        return;
      case 'resume':
        if (this.state !== 'paused') return;
        this.state = 'running';
        this.publish({ type: 'intervention', turn: this.turns, kind: 'resume', by: command.by });
        for (const go of this.resumed.splice(0)) go();
        return;
      case 'stop':
        this.publish({ type: 'intervention', turn: this.turns, kind: 'stop', by: command.by });
        this.finish('stopped', 'user');
        return;
      case 'inject':
      case 'perturb':
        this.publish({ type: 'intervention', turn: this.turns, kind: command.type, by: command.by, text: command.text, as: command.as ?? 'narrator' });
        return;
      case 'attractor':
        return;
      default: {
        const unreachable: never = command;
        throw new Error(`unknown command ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** Append a persisted event to the log, then tell subscribers. */
  publish(body: EventBody): ArenaEvent {
    this.seq += 1;
    const event = { v: 1, seq: this.seq, ts: new Date().toISOString(), runId: this.runId, ...body } as ArenaEvent;
    if (this.holdWrites) this.held.push(`${JSON.stringify(event)}\n`);
    else appendFileSync(this.logPath, `${JSON.stringify(event)}\n`);
    this.emit(event);
    return event;
  }

  flushWrites(): void {
    this.holdWrites = false;
    if (this.held.length > 0) appendFileSync(this.logPath, this.held.join(''));
    this.held = [];
  }

  /** A live-only delta: carries the seq of the last persisted event, never written to the log. */
  delta(turn: number, agentId: string, text: string, i: number): void {
    this.emit({ v: 1, seq: this.seq, ts: new Date().toISOString(), runId: this.runId, type: 'turn.delta', turn, agentId, text, i });
  }

  start(): void {
    this.publish({
      type: 'run.started',
      scenario: { name: this.scenario },
      agents: this.agents,
      seed: 1,
      limits: { maxTurns: 100 },
    });
    this.state = 'running';
  }

  /** Resolves when the run may take its next turn (at once unless paused). */
  untilRunning(): Promise<void> {
    if (this.state !== 'paused') return Promise.resolve();
    return new Promise((resolve) => this.resumed.push(resolve));
  }

  /** Start a turn and stream some of its text; finish it with `complete`. */
  async begin(agentId: string, chunks: string[]): Promise<number> {
    await this.untilRunning();
    const turn = this.turns + 1;
    this.publish({ type: 'turn.started', turn, agentId });
    chunks.forEach((chunk, i) => this.delta(turn, agentId, chunk, i));
    return turn;
  }

  complete(turn: number, agentId: string, text: string): void {
    this.turns = turn;
    this.publish({
      type: 'turn.completed',
      turn,
      agentId,
      text,
      finishReason: 'stop',
      usage: { inputTokens: 10, outputTokens: text.split(/\s+/).length },
      costUsd: 0,
      latencyMs: 42,
      attempts: 1,
    });
  }

  /** A whole turn: started, streamed word by word, completed. */
  async turn(agentId: string, text: string): Promise<number> {
    const words = text.split(/(?<= )/);
    const turn = await this.begin(agentId, words);
    this.complete(turn, agentId, text);
    return turn;
  }

  fail(turn: number, agentId: string, message: string, willRetry: boolean): void {
    this.publish({ type: 'turn.failed', turn, agentId, attempt: 1, error: { name: 'AgentError', message, status: 500 }, willRetry });
    if (!willRetry) this.turns = turn;
  }

  analysis(turn: number, scores: Record<string, number>, drift?: number): void {
    this.publish({ type: 'analysis.turn', turn, features: drift === undefined ? {} : { drift }, scores });
  }

  enter(attractor: string, turn: number, score: number, words: string[]): void {
    this.publish({ type: 'attractor.entered', attractor, turn, score, evidence: { words } });
  }

  finish(status: RunStatus = 'completed', stopReason = 'max_turns'): void {
    if (this.state === 'completed' || this.state === 'stopped' || this.state === 'failed' || this.state === 'interrupted') return;
    this.publish({
      type: 'run.finished',
      status,
      stopReason,
      turns: this.turns,
      totals: { inputTokens: 0, outputTokens: 0, costUsd: 0, failedAttempts: 0, wallTimeMs: 1 },
    });
    this.state = status;
    this.finishDone({ runId: this.runId, runDir: this.runDir, status, stopReason, turns: this.turns });
  }

  /** Resolves with the first published event that matches, already published or still to come. */
  find(match: (event: ArenaEvent) => boolean): Promise<ArenaEvent> {
    const found = this.published.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  private emit(event: ArenaEvent): void {
    if (event.type !== 'turn.delta') this.published.push(event);
    for (const listener of this.listeners) listener(event);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(event)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  }
}
