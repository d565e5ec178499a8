/** What a command gets from the outside; tests pass their own streams and environment. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** True when stdout is a terminal (colours, live transcript). */
  isTTY: boolean;
  /** The terminal's input, when there is one (the demo's "press Enter to start"). */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

/** One subcommand of `arena`. Exit codes: 0 done, 1 the run failed, 2 bad input or usage, 130 interrupted. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIO): Promise<number>;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Typing helper; returns its argument. */
export function defineCommand(command: Command): Command {
  return command;
}

/** Print the one machine-readable JSON object that ends stdout under --json. */
export function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}
