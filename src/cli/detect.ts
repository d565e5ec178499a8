import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UNCALIBRATED_ATTRACTORS } from '../analysis/builtin.js';
import { DETECTOR_SPECS } from '../analysis/detector-specs.js';
import { CONFIDENCES, loadLabels } from '../analysis/eval/labels.js';
import { crossValidateRuns, fitCalibration, labelledRuns, type CrossValidated } from '../analysis/fit-runs.js';
import { InputError } from '../errors.js';
import { padEndTo } from '../text-width.js';
import { findRunLogs } from '../runlog/layout.js';
import { EXIT, defineCommand, printJson } from './command.js';
import { intFlag, parse } from './_args.js';

const usage = `usage: arena detect fit --labels FILE <run folder | folder | events.jsonl>... --out FILE [--cv K] [--json]

Refit the calibrated attractor detectors on your own labelled runs: for each attractor with labels, a logistic
model over the features listed in the README (weights and thresholds) chosen for the best conversation-level F1.
The file it writes is used with \`detectors: [all, FILE]\` in a scenario, or \`--detectors all,FILE\` on
arena analyze and arena eval.
  --labels FILE          labels as arena eval reads them (the shared records file, or JSONL of
                         {run, attractor, present, onsetTurn})
  --out FILE             where to write the calibration (JSON)
  --attractors a,b       fit only these (default: every labelled attractor that has calibrated features)
  --min-confidence low|medium|high
                         leave out label records below this confidence (default medium)
  --cv K                 also report K-fold cross-validated precision and recall, folds grouped by scenario
                         and model pair (default 0: none)
  --runs-dir DIR         the folder to read when none is given (default: runs)
  --json                 print {out, attractors: [{attractor, conversations, positives, thresholds, cv?}], skipped}`;

export default defineCommand({
  name: 'detect',
  summary: 'refit the attractor detectors on labelled runs (detect fit)',
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== 'fit') throw new InputError(`unknown subcommand '${sub ?? ''}' (usage: arena detect fit --labels FILE <runs…> --out FILE)`);
    const { values, positionals } = parse(
      rest,
      {
        labels: { type: 'string' },
        out: { type: 'string' },
        attractors: { type: 'string' },
        'min-confidence': { type: 'string', default: 'medium' },
        cv: { type: 'string', default: '0' },
        'runs-dir': { type: 'string' },
        json: { type: 'boolean' },
      },
      usage,
    );
    if (!values.labels) throw new InputError('--labels FILE is required (see arena detect --help)');
    if (!values.out) throw new InputError('--out FILE is required: where the fitted calibration goes');
    const minConfidence = CONFIDENCES.find((c) => c === values['min-confidence']);
    if (!minConfidence) throw new InputError(`--min-confidence must be one of ${CONFIDENCES.join(', ')}, got '${values['min-confidence']}'`);
    const k = intFlag(values.cv, '--cv', 0) ?? 0;
    if (k === 1) throw new InputError('--cv needs at least 2 folds (or 0 for none)');
    if (positionals.length === 0) positionals.push(values['runs-dir'] ?? io.env.ARENA_RUNS_DIR ?? 'runs');

    const labelsFile = resolve(io.cwd, values.labels);
    const labels = await loadLabels(labelsFile, minConfidence);
    const files = await findRunLogs(positionals.map((p) => resolve(io.cwd, p)));
    if (files.length === 0) throw new InputError(`no events.jsonl found under ${positionals.join(', ')}`);
    const { runs, unmatched } = await labelledRuns(files, labels, UNCALIBRATED_ATTRACTORS, [io.cwd, dirname(labelsFile)], (line) => io.stderr.write(`warning: ${line}\n`));
    if (runs.length === 0) throw new InputError(`none of the ${labels.records.length} label records matched a run under ${positionals.join(', ')} (see arena eval --help for how records name runs)`);
    for (const u of unmatched) io.stderr.write(`warning: ${labels.file}: ${u.where} (${u.label}): ${u.reason}\n`);

    const named = [...new Set(runs.flatMap((r) => [...r.labels.keys()]))];
    const wanted = values.attractors?.split(',').map((s) => s.trim()).filter(Boolean) ?? named.filter((a) => DETECTOR_SPECS[a]);
    const unknown = wanted.filter((a) => !named.includes(a));
    if (unknown.length > 0) throw new InputError(`--attractors: no matched label names ${unknown.join(', ')} (labelled: ${named.join(', ')})`);
    const labelsHash = createHash('sha256').update(await readFile(labelsFile)).digest('hex').slice(0, 16);
    const { calibration, skipped } = fitCalibration(runs, wanted, DETECTOR_SPECS, {
      labels: values.labels,
      labelsSha256: labelsHash,
      minConfidence,
      runs: runs.length,
      fittedAt: new Date().toISOString(),
    });
    const cv = new Map<string, CrossValidated>();
    if (k >= 2) {
      for (const a of Object.keys(calibration.attractors)) {
        const figures = crossValidateRuns(runs, a, k);
        if (figures) cv.set(a, figures);
      }
      calibration.fittedOn = { ...calibration.fittedOn, crossValidation: { folds: k, attractors: [...cv.values()] } };
    }
    const out = resolve(io.cwd, values.out);
    try {
      await writeFile(out, JSON.stringify(calibration, null, 2) + '\n');
    } catch (err) {
      throw new InputError(`--out ${values.out}: cannot write (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
    }

    const rows = Object.entries(calibration.attractors).map(([attractor, fitted]) => {
      const conversations = runs.filter((r) => r.labels.has(attractor));
      return {
        attractor,
        conversations: conversations.length,
        positives: conversations.filter((r) => r.labels.get(attractor)!.present).length,
        thresholds: fitted.thresholds,
        ...(cv.has(attractor) ? { cv: cv.get(attractor) } : {}),
      };
    });
    if (values.json) {
      printJson(io, { out, attractors: rows, skipped, unmatched });
      return EXIT.ok;
    }
    const lines = [`fitted on ${runs.length} labelled runs (confidence ${minConfidence} or above) → ${values.out}`, ''];
    for (const r of rows) {
      lines.push(`  ${padEndTo(r.attractor, 16)} ${String(r.positives).padStart(4)} of ${String(r.conversations).padEnd(4)} labelled present; enters at p ≥ ${r.thresholds.enter} for ${r.thresholds.enterTurns} turn(s)`);
      if (r.cv) {
        const c = r.cv;
        const pct = (x: number | null) => (x === null ? '  n/a' : x.toFixed(2));
        lines.push(`  ${''.padEnd(16)} ${k}-fold CV${c.grouping === 'group' ? ' (grouped by scenario and models)' : ' (by conversation: fewer scenario/model groups than folds)'}: precision ${pct(c.precision)} [${c.ci95.precision.map((x) => x.toFixed(2)).join(', ')}], recall ${pct(c.recall)} [${c.ci95.recall.map((x) => x.toFixed(2)).join(', ')}], onset ±3 ${pct(c.onset.within3)} (tp ${c.tp}, fp ${c.fp}, fn ${c.fn})`);
      }
    }
    for (const s of skipped) lines.push(`  ${padEndTo(s.attractor, 16)} not fitted: ${s.reason}`);
    lines.push('', `use it with: detectors: [all, ${values.out}]  (scenario), or --detectors all,${values.out} (arena analyze, arena eval)`);
    io.stdout.write(lines.join('\n') + '\n');
    return EXIT.ok;
  },
});
