import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { readTurnVectors } from '../mining/trajectories.js';
import { ArenaError, InputError } from '../errors.js';
import { findLogsOrFail } from '../mining/find-logs.js';
import { openCheckedDatabase } from '../mining/sql/checked-database.js';
import { defineCommand, printJson } from './command.js';
import { parse } from './_args.js';

const usage = `usage: arena export --parquet <out folder> [folders…] [--runs-dir DIR] [--json]

Write the query views as Parquet files for pandas, polars or DuckDB: <out>/runs.parquet,
turns.parquet, attractors.parquet and analysis.parquet (JSON columns are stored as JSON text), and
embeddings.parquet: each embedded turn's vector as a FLOAT list (runId, turn, agentId, model, dims, vector).
Reads every events.jsonl under the folders (default: --runs-dir, else ./runs); lines that are not
valid events, and files without a run.started event, are left out with a warning.
  --json   print {out, files, runs, turns, embeddings}`;

const TABLES = ['runs', 'turns', 'attractors', 'analysis'] as const;

const firstLine = (err: unknown) => (err instanceof Error ? err.message.split('\n')[0]! : String(err));

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * Load every embedding event of the logs into a table `embeddings` (the query views leave them out: they are
 * the bulk of a log). The vectors are decoded here and handed to DuckDB as JSON lines of numbers, one file
 * at a time, so memory holds one log's vectors at most. Returns the number of rows.
 */
async function loadEmbeddings(connection: DuckDBConnection, files: readonly string[]): Promise<number> {
  await connection.run('CREATE TABLE embeddings (runId VARCHAR, file VARCHAR, turn INTEGER, agentId VARCHAR, model VARCHAR, dims INTEGER, vector FLOAT[])');
  const scratch = mkdtempSync(join(tmpdir(), 'arena-export-'));
  let rows = 0;
  try {
    const columns = `{runId: 'VARCHAR', file: 'VARCHAR', turn: 'INTEGER', agentId: 'VARCHAR', model: 'VARCHAR', dims: 'INTEGER', vector: 'FLOAT[]'}`;
    for (const file of files) {
      // Problems were reported when the logs were checked; a log without run.started holds no run.
      const run = readTurnVectors(file);
      if (!run.started || run.byModel.size === 0) continue;
      const part = join(scratch, 'part.jsonl');
      const fd = openSync(part, 'w');
      try {
        for (const [model, turns] of run.byModel) {
          for (const t of turns) {
            writeSync(fd, `${JSON.stringify({ runId: run.started.runId, file, turn: t.turn, agentId: t.agentId, model, dims: t.vector.length, vector: Array.from(t.vector) })}\n`);
            rows++;
          }
        }
      } finally {
        closeSync(fd);
      }
      await connection.run(`INSERT INTO embeddings SELECT * FROM read_json(${quote(part)}, format = 'newline_delimited', columns = ${columns}, maximum_object_size = 268435456)`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return rows;
}

export default defineCommand({
  name: 'export',
  summary: 'export run logs as Parquet (runs, turns, attractors, analysis, embeddings)',
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, { parquet: { type: 'string' }, json: { type: 'boolean' }, 'runs-dir': { type: 'string' } }, usage);
    if (!values.parquet) throw new InputError('--parquet <out folder> is required (see arena export --help)');
    const dirs = positionals.length > 0 ? positionals : [values['runs-dir'] ?? 'runs'];
    const out = resolve(io.cwd, values.parquet);
    const files = await findLogsOrFail(dirs.map((p) => resolve(io.cwd, p)), dirs);
    const db = await openCheckedDatabase(files, dirs, (line) => io.stderr.write(`warning: ${line}\n`));
    try {
      try {
        mkdirSync(out, { recursive: true });
      } catch (err) {
        throw new InputError(`cannot create ${values.parquet}: ${(err as NodeJS.ErrnoException).code ?? firstLine(err)}`, { cause: err });
      }
      const embeddings = await loadEmbeddings(db.connection, files);
      const written: string[] = [];
      for (const table of [...TABLES, 'embeddings'] as const) {
        const file = join(out, `${table}.parquet`);
        try {
          await db.connection.run(`COPY (SELECT * FROM ${table}) TO '${file.replace(/'/g, "''")}' (FORMAT parquet)`);
        } catch (err) {
          throw new ArenaError(`cannot write ${file}: ${firstLine(err)}`, { cause: err });
        }
        written.push(file);
      }
      const counts = (await db.connection.runAndReadAll('SELECT (SELECT count(*) FROM runs)::INTEGER, (SELECT count(*) FROM turns)::INTEGER')).getRowsJson()[0]!;
      if (values.json) printJson(io, { out, files: written, runs: counts[0], turns: counts[1], embeddings });
      else io.stdout.write(`wrote ${written.length} Parquet files to ${out} (${String(counts[0])} runs, ${String(counts[1])} turns, ${embeddings} embedded turns)\n`);
      return 0;
    } finally {
      db.close();
    }
  },
});
