import { loadScenario } from '../arena/load-scenario.js';
import { InputError } from '../errors.js';
import { defineCommand } from './command.js';
import { parse } from './_args.js';
import { applyOverrides, executeRun, runsDirOf, RUN_FLAGS, RUN_FLAGS_HELP } from './_run-command.js';
import { analysisAndViewer } from './_analysis-and-viewer.js';

const usage = `usage: arena run <scenario.yaml> [options]

Run one conversation from a scenario file; the run log goes to <runs-dir>/<runId>/events.jsonl.

${RUN_FLAGS_HELP}`;

export default defineCommand({
  name: 'run',
  summary: 'run a scenario file',
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, RUN_FLAGS, usage);
    if (positionals.length !== 1) throw new InputError(`expected one scenario file, got ${positionals.length}\n${usage}`);
    const { resolve } = await import('node:path');
    const loaded = await loadScenario(resolve(io.cwd, positionals[0]!));
    const scenario = applyOverrides(loaded.scenario, values);
    return executeRun(
      { scenario, scenarioDir: loaded.dir, scenarioFile: loaded.file, runsDir: runsDirOf(values, io), env: io.env },
      values,
      io,
      analysisAndViewer(),
      false,
    );
  },
});
