import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import { formatStats, type StatsFormat } from '../mining/format-stats.js';
import { gatherStats } from '../mining/gather-stats.js';
import { parseGrouping } from '../mining/group-key.js';
import { tableSettings } from '../mining/table-flags.js';
import { judgeAgreement } from '../mining/agreement.js';
import { formatAgreement } from '../mining/format-agreement.js';
import { chooseJudge } from '../mining/verdict-source.js';
import { parseJudgeFlag } from '../judge/request.js';
import { gatherForks } from '../mining/gather-forks.js';
import { formatForks } from '../mining/format-forks.js';
import { readTrajectories } from '../mining/gather-trajectories.js';
import { formatTrajectories } from '../mining/format-trajectories.js';
import { defineCommand, printJson } from './command.js';
import { intFlag, parse } from './_args.js';

const usage = `usage: arena stats <folders…> [--by FIELD|none] [--compare one-factor|all] [--words w1,w2] [--top K] [--emoji]
                   [--skip-common] [--source detector|judge] [--judge BACKEND:MODEL] [--format table|md|csv|json] [--json]
       arena stats <folders…> --agreement [--judge BACKEND:MODEL] [--format table|md|json] [--json]
       arena stats <folders…> --forks [--by FIELD|none] [--persistence K] [--format table|md|json] [--json]
       arena stats <folders…> --trajectories [--by FIELD|none] [--tail K] [--embedding-model NAME] [--format table|md|json] [--json]

Attractor statistics over every events.jsonl under the folders (or --runs-dir), per group of runs:
incidence among the analysed runs with Wilson 95% intervals, onset turn median (IQR), Kaplan–Meier share not yet in each
attractor with Greenwood 95% bands and the median onset with its 95% interval, end states, failed turns, tokens and cost;
Fisher's exact tests of incidence between groups (Holm-adjusted) and log-rank tests of the survival curves.
The grouping used is printed above the tables.
  --source detector|judge
                   whose verdicts every attractor figure counts: detector (default) the analysis in the logs;
                   judge the judgement events \`arena judge\` appended (newest per window, present if any window
                   says so, onset the judge's onsetTurn). A run whose judgement is missing, failed or does not cover
                   every turn is left out of the attractors no window found, and the table says how many
  --judge B:M      whose judgements (required when the runs hold several judges')
  --agreement      instead of the statistics: Cohen's κ between the judge and the detectors per attractor, over
                   the runs both have a verdict for, with the 2×2 table, raw agreement and a 95% interval
                   (large-sample standard error of Fleiss, Cohen & Everitt 1969); κ undefined is shown so
  --forks          instead of the statistics: for the forked runs under the folders (arena fork, plan forks),
                   per parent and pooled per condition of the parents (--by), for each fork turn the share of
                   children that are in each attractor after it, with Wilson 95% intervals (the commitment
                   curve) and the first fork turn from which that share stays at or above 0.9; for children
                   in an attractor at their fork turn, persistence (still in it K turns later) and recovery (not
                   in it at their last turn), per perturbation. Parents outside the folders are read from
                   meta.fork.parentRunDir
  --persistence K  turns after the fork at which persistence is read (default 5)
  --trajectories   instead of the statistics: where the conversations go in embedding space, per condition, from
                   the turns' embedding events: a shared 2-D PCA projection of every turn, each condition's
                   end-state centroid (a run's end state: the mean of its last K turns), cross-seed similarity
                   (mean pairwise cosine of the end states of its runs), partner pull in mixed play (where a
                   model's end state lies between its own and its partner's self-play centroids of the same
                   scenario: 0 own, 1 partner's) and drift from the opening turn per turn. The projected points
                   are in --json
  --tail K         turns that make a run's end state (default 5)
  --embedding-model NAME  whose vectors (default: the model most turns were embedded with)
  --by FIELD       group by a field of run.started (scenario.name, meta.cell.temperature, agents,
                   seed, source.format, status, stopReason; several joined by commas, each one a factor);
                   'none' = one group. Default: a batch run by its matrix cell (scenario × pairing × parameter
                   values such as temperature, repetitions and seeds pooled; forks add fork turn and condition),
                   a run outside a batch by scenario name × agents' models
  --compare one-factor|all
                   which pairs of groups the Fisher and pairwise log-rank tests compare: one-factor (default)
                   only groups that differ in exactly one factor; all every pair (at most 20 groups). Tables
                   where no run entered in either group, or every run did in both, are left out and counted
  --words w1,w2    word table for these words (average uses per transcript, share of transcripts, max)
  --top K          also the K most used words (and emoji with --emoji) of each group
  --skip-common    leave common English function words out of the --top ranking
  --emoji          emoji table
  --format F       table (default), md, csv or json
  --json           same as --format json (one JSON object on the last line)`;

export default defineCommand({
  name: 'stats',
  summary: 'attractor incidence, onsets, survival and word/emoji tables over run logs',
  usage,
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      {
        by: { type: 'string' },
        compare: { type: 'string' },
        words: { type: 'string' },
        top: { type: 'string' },
        emoji: { type: 'boolean' },
        'skip-common': { type: 'boolean' },
        format: { type: 'string', default: 'table' },
        json: { type: 'boolean' },
        source: { type: 'string', default: 'detector' },
        judge: { type: 'string' },
        agreement: { type: 'boolean' },
        forks: { type: 'boolean' },
        trajectories: { type: 'boolean' },
        tail: { type: 'string' },
        'embedding-model': { type: 'string' },
        persistence: { type: 'string' },
        'runs-dir': { type: 'string' },
      },
      usage,
    );
    const format = values.json ? 'json' : values.format;
    if (format !== 'table' && format !== 'md' && format !== 'csv' && format !== 'json') {
      throw new InputError(`--format must be table, md, csv or json, got '${format}'`);
    }
    const folders = positionals.length > 0 ? positionals : values['runs-dir'] ? [values['runs-dir']] : [];
    if (folders.length === 0) throw new InputError('give at least one folder of runs, or --runs-dir DIR (see arena stats --help)');
    const source = values.source;
    if (source !== 'detector' && source !== 'judge') throw new InputError(`--source must be detector or judge, got '${source}'`);
    if (values.agreement && source !== 'detector') throw new InputError('--agreement compares the judge with the detectors; leave out --source');
    if (values.agreement && format === 'csv') throw new InputError('--agreement prints table, md or json');
    if (values.judge !== undefined && source !== 'judge' && !values.agreement) throw new InputError('--judge applies to --source judge and --agreement only');
    if (values.persistence !== undefined && !values.forks) throw new InputError('--persistence applies to --forks only');
    const compare = values.compare ?? 'one-factor';
    if (compare !== 'one-factor' && compare !== 'all') throw new InputError(`--compare must be one-factor or all, got '${compare}'`);
    if (values.compare !== undefined && (values.forks || values.agreement || values.trajectories)) throw new InputError('--compare applies to the statistics, not to --forks, --agreement or --trajectories');
    if ((values.tail !== undefined || values['embedding-model'] !== undefined) && !values.trajectories) throw new InputError('--tail and --embedding-model apply to --trajectories only');
    if (values.trajectories) {
      if (values.forks || values.agreement || source !== 'detector') throw new InputError('--trajectories reads embeddings; leave out --forks, --agreement and --source');
      if (format === 'csv') throw new InputError('--trajectories prints table, md or json');
      const t = await readTrajectories({
        paths: folders.map((f) => resolve(io.cwd, f)),
        labels: folders,
        grouping: parseGrouping(values.by),
        tail: intFlag(values.tail, '--tail', 1) ?? 5,
        ...(values['embedding-model'] !== undefined ? { model: values['embedding-model'] } : {}),
        warn: (line) => io.stderr.write(`warning: ${line}\n`),
      });
      if (!t) throw new InputError(`no embeddings under ${folders.join(', ')}: run with --embeddings offline (the default of arena run and demo), or add them with arena analyze --write --embeddings offline`);
      if (format === 'json') printJson(io, t);
      else io.stdout.write(formatTrajectories(t, format === 'md'));
      return 0;
    }
    if (values.forks) {
      if (values.agreement || source !== 'detector') throw new InputError('--forks reads the detectors\' verdicts; leave out --agreement and --source');
      if (format === 'csv') throw new InputError('--forks prints table, md or json');
      const forks = await gatherForks({
        paths: folders.map((f) => resolve(io.cwd, f)),
        labels: folders,
        grouping: parseGrouping(values.by),
        persistenceTurns: intFlag(values.persistence, '--persistence', 1) ?? 5,
        warn: (line) => io.stderr.write(`warning: ${line}\n`),
      });
      if (format === 'json') printJson(io, forks);
      else io.stdout.write(formatForks(forks, format === 'md'));
      return 0;
    }
    const judge = values.judge === undefined ? undefined : parseJudgeFlag(values.judge);
    const settings = tableSettings({ words: values.words, top: intFlag(values.top, '--top'), emoji: values.emoji, skipCommon: values['skip-common'] });
    const { result, runs } = await gatherStats({
      paths: folders.map((f) => resolve(io.cwd, f)),
      labels: folders,
      grouping: parseGrouping(values.by),
      summary: settings.summary,
      table: settings.table,
      source: source === 'judge' ? { kind: 'judge', ...(judge ? { judge } : {}) } : { kind: 'detector' },
      compare,
      warn: (line) => io.stderr.write(`warning: ${line}\n`),
    });
    if (values.agreement) {
      const agreement = judgeAgreement(runs, chooseJudge(runs, judge));
      if (format === 'json') printJson(io, agreement);
      else io.stdout.write(formatAgreement(agreement, format === 'md'));
      return 0;
    }
    if (format === 'json') printJson(io, result);
    else io.stdout.write(formatStats(result, format satisfies StatsFormat));
    return 0;
  },
});
