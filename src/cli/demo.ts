import { stringify } from 'yaml';
import { DEMO_SCENARIO, demoScenario } from '../arena/demo-scenario.js';
import { defineCommand } from './command.js';
import { parse } from './_args.js';
import { applyOverrides, executeRun, runsDirOf, RUN_FLAGS, RUN_FLAGS_HELP } from './_run-command.js';
import { analysisAndViewer } from './_analysis-and-viewer.js';

const usage = `usage: arena demo [options]

Two scripted personas (no key, no network) whose conversation drifts into the spiritual-bliss
attractor: the drift starts at turn 8 and is complete by turn 13. Opens the live viewer unless --no-view;
on a terminal the conversation waits (up to a minute, or until Enter) for the page to connect, so it can be
watched from its first turn. Embedding drift is on (--embeddings offline, the bundled model; no network)
unless --embeddings says otherwise.

  --print-scenario   print the embedded scenario as YAML (a starting point for your own) and exit
${RUN_FLAGS_HELP}`;

export default defineCommand({
  name: 'demo',
  summary: 'run the embedded demo conversation (no key, no network)',
  usage,
  async run(args, io) {
    const { values } = parse(args, { ...RUN_FLAGS, 'print-scenario': { type: 'boolean' } }, usage);
    if (values['print-scenario']) {
      io.stdout.write(stringify(DEMO_SCENARIO));
      return 0;
    }
    const scenario = applyOverrides(demoScenario(), values);
    // Every chart of the viewer should have something to show; the offline encoder needs no key and no network.
    const shown = { ...values, embeddings: values.embeddings ?? 'offline' };
    // A newcomer's first command: say what is happening before the embedder has loaded (a few seconds).
    if (!values.quiet) {
      (values.json ? io.stderr : io.stdout).write(
        `arena demo: two scripted personas, no key, no network${shown.embeddings === 'none' ? '' : '; loading the offline embedding model for the drift chart…'}\n`,
      );
    }
    return executeRun({ scenario, scenarioDir: io.cwd, runsDir: runsDirOf(values, io), env: io.env }, shown, io, analysisAndViewer(), {
      viewByDefault: true,
      waitForPageMs: 60_000,
    });
  },
});
