import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import { gatherStats } from '../mining/gather-stats.js';
import { parseGrouping } from '../mining/group-key.js';
import { renderReport } from '../mining/report/html.js';
import { forksSection } from '../mining/report/forks-section.js';
import { readForks } from '../mining/gather-forks.js';
import { readTrajectories } from '../mining/gather-trajectories.js';
import { tableSettings } from '../mining/table-flags.js';
import { judgeAgreement } from '../mining/agreement.js';
import { chooseJudge, judgesIn } from '../mining/verdict-source.js';
import { parseJudgeFlag } from '../judge/request.js';
import { defineCommand, printJson } from './command.js';
import { intFlag, parse } from './_args.js';

const usage = `usage: arena report <folders…> --out report.html [--by FIELD|none] [--words w1,w2] [--top K]
                    [--emoji] [--skip-common] [--source detector|judge] [--judge BACKEND:MODEL]
                    [--feature NAME] [--title TEXT] [--json]

One self-contained HTML file (inline SVG, no scripts or external assets) with attractor incidence and
Wilson intervals, Kaplan–Meier survival curves with their bands, trajectories in embedding space (when the
runs hold embeddings), mean feature per turn per condition, a runs × turns
heatmap of attractor scores, the stats tables, for forked runs their commitment curves, persistence and
recovery (as \`arena stats --forks\`) and, when the runs hold judgements, Cohen's κ between each
judge (or the --judge one) and the detectors. It says whose verdicts its figures count. Options as in
\`arena stats\` (--source and --judge too), plus:
  --out FILE       where to write the report (required)
  --feature NAME   analysis.turn feature drawn per turn (default drift)
  --title TEXT     page title
  --json           print {out, runs, groups, source, judge?, agreement: [BACKEND:MODEL, …], forks}`;

export default defineCommand({
  name: 'report',
  summary: 'write a self-contained HTML report with plots and tables',
  usage,
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      {
        out: { type: 'string' },
        by: { type: 'string' },
        words: { type: 'string' },
        top: { type: 'string' },
        emoji: { type: 'boolean' },
        'skip-common': { type: 'boolean' },
        feature: { type: 'string', default: 'drift' },
        title: { type: 'string' },
        json: { type: 'boolean' },
        source: { type: 'string', default: 'detector' },
        judge: { type: 'string' },
        'runs-dir': { type: 'string' },
      },
      usage,
    );
    if (!values.out) throw new InputError('--out FILE is required (see arena report --help)');
    const folders = positionals.length > 0 ? positionals : values['runs-dir'] ? [values['runs-dir']] : [];
    if (folders.length === 0) throw new InputError('give at least one folder of runs, or --runs-dir DIR (see arena report --help)');
    const source = values.source;
    if (source !== 'detector' && source !== 'judge') throw new InputError(`--source must be detector or judge, got '${source}'`);
    const judge = values.judge === undefined ? undefined : parseJudgeFlag(values.judge);
    const grouping = parseGrouping(values.by);
    const settings = tableSettings({ words: values.words, top: intFlag(values.top, '--top'), emoji: values.emoji, skipCommon: values['skip-common'] });
    const { result, runs: summaries } = await gatherStats({
      paths: folders.map((f) => resolve(io.cwd, f)),
      labels: folders,
      grouping,
      summary: { ...settings.summary, scores: true, feature: values.feature },
      table: settings.table,
      source: source === 'judge' ? { kind: 'judge', ...(judge ? { judge } : {}) } : { kind: 'detector' },
      warn: (line) => io.stderr.write(`warning: ${line}\n`),
    });
    const out = resolve(io.cwd, values.out);
    // The judge the statistics count, or the one asked for, or every judge in the runs: each against the detectors.
    const judges = result.judge ? [result.judge] : judge ? [chooseJudge(summaries, judge)] : judgesIn(summaries);
    const agreements = judges.map((j) => judgeAgreement(summaries, j));
    // Forked runs get their own section (commitment curves, persistence); parents outside the folders are read too.
    // The statistics above already read every run.started: the logs are read again for the fork section only
    // when some run is a fork.
    const anyFork = summaries.some((s) => (s.started?.meta as { fork?: unknown } | undefined)?.fork !== undefined);
    const forks = anyFork ? await readForks({ paths: folders.map((f) => resolve(io.cwd, f)), labels: folders, grouping, warn: () => {} }) : undefined;
    // Runs with embeddings get a trajectory section (warnings were given when the logs were read above).
    const trajectories = await readTrajectories({ paths: folders.map((f) => resolve(io.cwd, f)), labels: folders, grouping, warn: () => {} });
    const html = await renderReport(result, summaries, {
      feature: values.feature,
      grouping,
      agreements,
      ...(values.title ? { title: values.title } : {}),
      ...(forks ? { forksSection: await forksSection(forks) } : {}),
      ...(trajectories ? { trajectories } : {}),
    });
    try {
      writeFileSync(out, html);
    } catch (err) {
      throw new InputError(`cannot write ${values.out}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
    const agreement = judges.map((j) => `${j.backend}:${j.model}`);
    if (values.json) printJson(io, { out, runs: summaries.length, groups: result.groups.length, source: result.source, ...(result.judge ? { judge: result.judge } : {}), agreement, forks: forks ? forks.childrenRead : 0 });
    else io.stdout.write(`wrote ${out} (${summaries.length} runs, ${result.groups.length} groups)\n`);
    return 0;
  },
});
