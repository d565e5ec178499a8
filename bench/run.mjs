// Runs every bench/*.bench.mjs in its own Node process (so memory figures do not mix) and prints one JSON
// object: { <bench name>: { ...figures } }. `npm run bench -- detection viewer` runs only those.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// A group name also runs the benches listed under it (each still prints under its own name).
const GROUPS = { backends: ['backends-llama'] };
const only = process.argv.slice(2).flatMap((name) => [name, ...(GROUPS[name] ?? [])]);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.includes(f.replace(/\.bench\.mjs$/, '')))
  .sort();
const results = {};
for (const file of files) {
  const name = file.replace(/\.bench\.mjs$/, '');
  process.stderr.write(`bench: ${name} …\n`);
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', join(here, '_run-one.mjs'), join(here, file)],
    { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'], timeout: 10 * 60_000 },
  );
  const line = (child.stdout ?? '').split('\n').find((l) => l.startsWith('@@RESULT@@'));
  results[name] = line ? JSON.parse(line.slice('@@RESULT@@'.length)) : { error: `exit ${child.status}${child.signal ? ` (${child.signal})` : ''}` };
}
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
