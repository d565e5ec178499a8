import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import { IMPORT_FORMATS, importPaths, type ImportFormat } from '../mining/import/import-files.js';
import { defineCommand, printJson } from './command.js';
import { parse } from './_args.js';

const usage = `usage: arena import <backrooms|sharegpt|jsonl> <path…> --runs-dir DIR [--json]

Bring transcripts from other corpora in as run logs, one run per conversation, so stats, report and
show work on them. Folders are searched for .txt (backrooms), .json/.jsonl (sharegpt), .jsonl (jsonl).
  backrooms   text where each turn starts with a line "### <speaker> ###"; a file named
              {lm1}_{lm2}_{template}_{timestamp}.txt gives the models and the template
  sharegpt    JSON [{conversations: [{from, value}]}] (or JSON Lines of such objects)
  jsonl       one {speaker, text} object per line, one conversation per file
Files that cannot be read are skipped with a reason; the rest are still imported. Exit code 2 when
nothing new was imported (everything skipped, or already imported).
  --runs-dir DIR   where the runs are written (default ./runs)
  --json           print {imported, turns, runsDir, skipped: [{path, reason}]}`;

const isFormat = (s: string): s is ImportFormat => (IMPORT_FORMATS as readonly string[]).includes(s);

export default defineCommand({
  name: 'import',
  summary: 'import backrooms, ShareGPT or {speaker, text} JSONL transcripts as run logs',
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, { 'runs-dir': { type: 'string', default: 'runs' }, json: { type: 'boolean' } }, usage);
    const [format, ...paths] = positionals;
    if (!format || !isFormat(format)) throw new InputError(`first argument must be one of ${IMPORT_FORMATS.join(', ')}${format ? `, got '${format}'` : ''}\n${usage}`);
    if (paths.length === 0) throw new InputError(`give at least one file or folder to import\n${usage}`);
    const result = await importPaths(format, paths.map((p) => resolve(io.cwd, p)), resolve(io.cwd, values['runs-dir']));
    for (const s of result.skipped) io.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
    for (const w of result.warnings) io.stderr.write(`warning ${w.path}: ${w.warning}\n`);
    if (values.json) {
      const { runs: _runs, ...contract } = result;
      printJson(io, { ...contract, runs: result.runs.map((r) => r.runId) });
    } else {
      io.stdout.write(`imported ${result.imported} transcript${result.imported === 1 ? '' : 's'} (${result.turns} turns) into ${result.runsDir}${result.skipped.length ? `, skipped ${result.skipped.length}` : ''}\n`);
    }
    // Nothing new imported is exit 2, as the README says, even when it is all there from an earlier import:
    // a script that imports and then analyses learns that nothing new arrived.
    return result.imported === 0 ? 2 : 0;
  },
});
