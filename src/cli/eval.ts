import { dirname, resolve } from 'node:path';
import { DETECTION_SOURCES, evaluate } from '../analysis/eval/evaluate.js';
import { formatEval } from '../analysis/eval/format.js';
import { CONFIDENCES, loadLabels } from '../analysis/eval/labels.js';
import { detectorChooser } from '../analysis/run-detectors.js';
import { InputError } from '../errors.js';
import { parseJudgeFlag } from '../judge/request.js';
import { findRunLogs } from '../runlog/layout.js';
import { EXIT, defineCommand, printJson } from './command.js';
import { parse } from './_args.js';

const usage = `usage: arena eval [<run folder | folder | events.jsonl>...] --labels FILE [--source detector|log|judge] [--judge BACKEND:MODEL] [--json]

Score attractor detection against labels: per attractor tp, fp, fn, precision, recall and F1 with 95% Wilson
intervals, onset error, labelled end state vs the detector's, and every miss and false alarm with its evidence.
Finds events.jsonl at any depth under the folders given (default: the runs dir).
  --labels FILE          the shared format ({records: [{source, bliss, bliss_onset_turn, …}]}) or JSONL of
                         {run, attractor, present, onsetTurn} (run: a runId, a run folder, or the source path
                         of an imported transcript, e.g. dreamsim2/x.txt for …/var/backrooms_logs/dreamsim2/x.txt)
  --source detector|log|judge
                         detector (default): re-run the current detectors on the turns;
                         log: score the attractor events already in the logs;
                         judge: score the judgement events \`arena judge\` appended (newest per window; a run
                         whose windows failed or do not cover every turn is scored only where a window found
                         the attractor: a failed judgement never counts as absent)
  --judge BACKEND:MODEL  with --source judge: whose judgements (needed when a log holds several judges')
  --detectors LIST       attractor names, 'all', or attractor .yaml files, comma-separated (as arena analyze)
  --attractors a,b       score only these attractors
  --min-confidence low|medium|high
                         leave out label records below this confidence (default low: all; none given = high)
  --runs-dir DIR         the folder to read when none is given (default: runs)
  --json                 print {matched, unmatched: [...], attractors: [{attractor, tp, fp, fn, precision, recall,
                         f1, ci95: {precision, recall}, onset: {median, within3}}], …}`;

export default defineCommand({
  name: 'eval',
  summary: 'score attractor detection against labelled runs',
  usage,
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      {
        labels: { type: 'string' },
        source: { type: 'string', default: 'detector' },
        detectors: { type: 'string' },
        judge: { type: 'string' },
        attractors: { type: 'string' },
        'min-confidence': { type: 'string', default: 'low' },
        'runs-dir': { type: 'string' },
        json: { type: 'boolean' },
      },
      usage,
    );
    if (!values.labels) throw new InputError('--labels FILE is required (see arena eval --help)');
    const source = oneOf(values.source, DETECTION_SOURCES, '--source');
    const minConfidence = oneOf(values['min-confidence'], CONFIDENCES, '--min-confidence');
    const attractors = values.attractors?.split(',').map((s) => s.trim()).filter(Boolean);
    if (source === 'log' && values.detectors !== undefined) throw new InputError('--detectors applies to --source detector only (the logs hold what their detectors found)');
    if (source !== 'judge' && values.judge !== undefined) throw new InputError('--judge applies to --source judge only');
    if (source === 'judge' && values.detectors !== undefined) throw new InputError('--detectors applies to --source detector only (with --source judge the judgements are scored)');
    const judge = values.judge === undefined ? undefined : parseJudgeFlag(values.judge);
    if (attractors?.length === 0) throw new InputError('--attractors names no attractor');
    if (positionals.length === 0) positionals.push(values['runs-dir'] ?? io.env.ARENA_RUNS_DIR ?? 'runs');

    const labelsFile = resolve(io.cwd, values.labels);
    const labels = await loadLabels(labelsFile, minConfidence);
    if (labels.records.length === 0) throw new InputError(`${values.labels}: no label record at confidence ${minConfidence} or above`);
    if (attractors) {
      const named = new Set(labels.records.flatMap((r) => [...r.labels.keys()]));
      const unknown = attractors.filter((a) => !named.has(a));
      if (unknown.length > 0) throw new InputError(`--attractors: no label names ${unknown.join(', ')} (labelled: ${[...named].join(', ')})`);
    }
    const files = await findRunLogs(positionals.map((p) => resolve(io.cwd, p)));
    if (files.length === 0) throw new InputError(`no events.jsonl found under ${positionals.join(', ')}`);

    const report = await evaluate(files, {
      labels,
      minConfidence,
      source,
      detectorsFor: detectorChooser(values.detectors, io.cwd),
      ...(attractors ? { attractors } : {}),
      ...(judge ? { judge } : {}),
      bases: [io.cwd, dirname(labelsFile)],
      onWarning: (line) => io.stderr.write(`warning: ${line}\n`),
    });
    if (report.matched === 0) {
      const example = labels.records[0]!.ref;
      throw new InputError(
        `none of the ${labels.records.length} label records matched a run among ${files.length} run logs under ${positionals.join(', ')} ` +
          `(the first names '${example}'). A record names its run by runId, by run folder, or by the path of the imported transcript ` +
          `relative to the corpus folder: 'dreamsim2/x.txt' matches a run whose run.started source.path is /data/var/backrooms_logs/dreamsim2/x.txt`,
      );
    }
    if (values.json) printJson(io, report);
    else io.stdout.write(formatEval(report, positionals.join(', ')));
    return EXIT.ok;
  },
});

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new InputError(`${flag} must be one of ${allowed.join(', ')}, got '${value}'`);
  return found;
}
