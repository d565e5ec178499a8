import { dirname } from 'node:path';
import { ScenarioSchema } from '../arena/scenario.js';
import { InputError } from '../errors.js';
import { runLogPath } from '../runlog/layout.js';
import { describeProblems, readRunLog } from '../runlog/reader.js';
import { runState } from '../arena/run-state.js';
import { formatPath } from '../format-path.js';
import { lockBatchOfRun } from '../runlog/writer-lock.js';
import { MANIFEST_FILE } from '../batch/manifest.js';
import { defineCommand, printJson, type CliIO } from './command.js';
import { enteredAttractors } from '../runlog/entered-attractors.js';
import { parse } from './_args.js';
import { applyOverrides, executeRun, runsDirOf, RUN_FLAGS, RUN_FLAGS_HELP, type RunFlagValues } from './_run-command.js';
import { locateRun } from './_locate-run.js';
import { analysisAndViewer } from './_analysis-and-viewer.js';

const usage = `usage: arena resume <run folder | events.jsonl | runId> [options]

Continue a run that was killed or interrupted from its last completed turn: same runId, same log,
no turn lost or repeated. A finished run can be extended with a higher --max-turns.

${RUN_FLAGS_HELP}`;

export default defineCommand({
  name: 'resume',
  summary: 'continue a killed or interrupted run from its last completed turn',
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, RUN_FLAGS, usage);
    if (positionals.length !== 1) throw new InputError(`expected one run folder, got ${positionals.length}\n${usage}`);
    const file = await runLogPath(locateRun(positionals[0]!, io.cwd, runsDirOf(values, io)));
    // A run of a batch has no lock of its own while the batch runs (the batch's lock covers it): take that.
    const unlockBatch = lockBatchOfRun(dirname(file), MANIFEST_FILE);
    try {
      return await resumeRun(file, values, io);
    } finally {
      unlockBatch();
    }
  },
});

async function resumeRun(file: string, values: RunFlagValues, io: CliIO): Promise<number> {
  const log = await readRunLog(file);
  for (const line of describeProblems(log)) io.stderr.write(`warning: ${line}\n`);
  const state = runState(log.events, file);
  const parsed = ScenarioSchema.safeParse(state.started.scenario);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${file}: the scenario recorded in run.started is not valid: ${formatPath(issue.path)}: ${issue.message}`);
  }
  const scenario = applyOverrides(parsed.data, values);
  const finished = state.finished;
  const extending = values['max-turns'] !== undefined && scenario.limits.maxTurns > state.turn;
  if (finished && finished.status === 'completed' && !extending) {
    io.stderr.write(`arena resume: run ${state.started.runId} already ${finished.status} (${finished.stopReason}) after ${state.turn} turns; pass a higher --max-turns to extend it\n`);
    if (values.json) {
      const attractors = enteredAttractors(file);
      printJson(io, { runId: state.started.runId, runDir: dirname(file), status: finished.status, stopReason: finished.stopReason, turns: state.turn, ...(attractors ? { attractors } : {}) });
    }
    return 0;
  }
  const scenarioFile = state.started.scenarioFile;
  return executeRun(
    {
      scenario,
      scenarioDir: scenarioFile ? dirname(scenarioFile) : io.cwd,
      ...(scenarioFile ? { scenarioFile } : {}),
      runsDir: dirname(dirname(file)),
      runDir: dirname(file),
      env: io.env,
      resume: { state, validBytes: log.validBytes, truncatedTail: log.truncatedTail, history: log.events, totalBytes: log.totalBytes },
    },
    values,
    io,
    analysisAndViewer(),
    false,
  );
}
