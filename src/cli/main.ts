#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';
import { ArenaError, InputError } from '../errors.js';
import { EXIT, type CliIO, type Command } from './command.js';
import { loadDotEnv } from './_env.js';

/** Command name → module exporting `default: Command`. A missing module means the command is not built yet. */
const COMMANDS: Record<string, string> = {
  demo: './demo.js',
  run: './run.js',
  resume: './resume.js',
  fork: './fork.js',
  show: './show.js',
  analyze: './analyze.js',
  detect: './detect.js',
  eval: './eval.js',
  serve: './serve.js',
  batch: './batch.js',
  worker: './worker.js',
  stats: './stats.js',
  report: './report.js',
  query: './query.js',
  import: './import.js',
  export: './export.js',
  judge: './judge.js',
};

async function loadCommand(name: string): Promise<Command | undefined> {
  const path = COMMANDS[name];
  if (!path) return undefined;
  try {
    const mod = (await import(path)) as { default: Command };
    return mod.default;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(path.slice(2))) {
      return undefined;
    }
    throw err;
  }
}

async function help(io: CliIO): Promise<void> {
  const lines = ['usage: arena <command> [options]', '', 'commands:'];
  for (const name of Object.keys(COMMANDS)) {
    const cmd = await loadCommand(name);
    if (cmd) lines.push(`  ${name.padEnd(9)} ${cmd.summary}`);
  }
  lines.push('', 'Run `arena <command> --help` for its options. Exit codes: 0 done, 1 run failed, 2 bad input, 130 interrupted.');
  io.stdout.write(lines.join('\n') + '\n');
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    await help(io);
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version') {
    io.stdout.write('persona-arena 0.1.0\n');
    return EXIT.ok;
  }
  const cmd = await loadCommand(name);
  if (!cmd) {
    io.stderr.write(`arena: unknown command '${name}' (try: arena --help)\n`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${cmd.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof InputError) {
      io.stderr.write(`arena ${name}: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof ArenaError) {
      io.stderr.write(`arena ${name}: ${err.message}\n`);
      return EXIT.failed;
    }
    throw err;
  }
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const env = loadDotEnv(process.cwd(), process.env);
  const io: CliIO = { stdout: process.stdout, stderr: process.stderr, env, cwd: process.cwd(), isTTY: Boolean(process.stdout.isTTY), stdin: process.stdin };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`arena: internal error (a bug; please report it)\n${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
