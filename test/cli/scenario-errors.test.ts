import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';

const AGENT = (id: string) => `  - id: ${id}\n    backend: scripted\n    generator: {kind: script, lines: [hi]}\n`;

interface Case {
  name: string;
  /** File text; undefined means the file does not exist. */
  yaml?: string;
  /** Expected `line:col` (a regex) after the file name, or null when there is no position to give. */
  at: string | null;
  /** Path inside the file, as printed. */
  path?: string;
  problem: RegExp;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const CASES: Case[] = [
  {
    name: 'unknown key',
    yaml: `name: t\nagents:\n  - id: a\n    backend: scripted\n    colour: red\n    generator: {kind: script, lines: [hi]}\n`,
    // The line of the key; the column may point at the key or its value.
    at: '5:\\d+',
    path: 'agents[0].colour',
    problem: /unknown key 'colour'/,
  },
  {
    name: 'wrong type',
    yaml: `name: t\nagents:\n${AGENT('a')}limits:\n  maxTurns: lots\n`,
    at: '7:13',
    path: 'limits.maxTurns',
    problem: /expected number, got string "lots"/,
  },
  {
    name: 'a number too large',
    yaml: `name: t\nseed: 1e400\nagents:\n${AGENT('a')}`,
    at: '2:7',
    path: 'seed',
    problem: /expected a finite number, got a number too large to hold \(it reads as infinity\)/,
  },
  { name: 'missing agents', yaml: `name: t\n`, at: '1:1', path: 'agents', problem: /missing/ },
  { name: 'empty agent list', yaml: `name: t\nagents: []\n`, at: '2:9', path: 'agents', problem: /expected array to have >=1 items/ },
  {
    name: 'unknown backend',
    yaml: `name: t\nagents:\n  - id: a\n    backend: gpt-9000\n    model: x\n`,
    at: '4:14',
    path: 'agents[0].backend',
    problem: /unknown backend "gpt-9000" \(one of scripted, anthropic/,
  },
  {
    name: 'unknown generator kind',
    yaml: `name: t\nagents:\n  - id: a\n    backend: scripted\n    generator: {kind: telepathy}\n`,
    at: '5:23',
    path: 'agents[0].generator.kind',
    problem: /unknown generator kind "telepathy" \(one of script, cycle, echo, markov, drift, replay\)/,
  },
  {
    name: '`first` naming a missing agent',
    yaml: `name: t\nfirst: zed\nagents:\n${AGENT('a')}${AGENT('b')}`,
    at: '2:8',
    path: 'first',
    problem: /no agent with id 'zed' \(agents: a, b\)/,
  },
  {
    name: 'invalid YAML',
    yaml: `name: t\nagents:\n  - id: a\n    backend: [scripted\n`,
    at: '5:1',
    problem: /not valid YAML/,
  },
  { name: 'duplicate keys', yaml: `name: t\nname: u\nagents:\n${AGENT('a')}`, at: '2:1', problem: /not valid YAML: this key appears twice in the same mapping/ },
  {
    name: 'misspelt key, reported before the key it leaves missing',
    yaml: `name: t\nagents:\n  - id: a\n    backend: scripted\n    generater: {kind: echo}\n${AGENT('b')}`,
    at: '5:5',
    path: 'agents[0].generater',
    problem: /unknown key 'generater' \(did you mean 'generator'\?\)/,
  },
  {
    name: 'misspelt sampling key',
    yaml: `name: t\nagents:\n${AGENT('a')}  - id: b\n    backend: openai\n    model: m\n    sampling: {temprature: 0.5}\n`,
    at: '9:16',
    path: 'agents[1].sampling.temprature',
    problem: /unknown key 'temprature' \(did you mean 'temperature'\?\)/,
  },
  {
    name: 'a key indented too far, named on its own line',
    yaml: `name: t\nagents:\n  - id: a\n    backend: scripted\n     generator: {kind: echo}\n${AGENT('b')}`,
    at: '5:6',
    problem: /not valid YAML: this key is indented more than the line above it/,
  },
  {
    name: 'a key indented too little',
    yaml: `name: t\nagents:\n  - id: a\n    backend: scripted\n  generator: {kind: echo}\n${AGENT('b')}`,
    at: '5:1',
    problem: /not valid YAML: this line is indented differently from the keys above it/,
  },
  { name: 'tab indentation', yaml: `name: t\n\tagents: []\n`, at: '2:1', problem: /not valid YAML: this line is indented with a tab; YAML indents with spaces only/ },
  {
    name: 'persona file that is missing',
    yaml: `name: t\nagents:\n  - id: a\n    backend: scripted\n    persona: {file: sheets/nobody.md}\n    generator: {kind: echo}\n${AGENT('b')}`,
    at: '5:\\d+',
    path: 'agents[0].persona.file',
    problem: /no such file: .*sheets\/nobody\.md$/,
  },
  {
    name: 'persona mapping without a file',
    yaml: `name: t\nagents:\n  - id: a\n    backend: scripted\n    persona: {text: hello}\n    generator: {kind: echo}\n${AGENT('b')}`,
    at: '5:14',
    path: 'agents[0].persona',
    problem: /expected the persona as text, or as \{file: path\/to\/sheet\.md\}/,
  },
  {
    name: 'corpus file that is missing',
    yaml: `name: t\nagents:\n  - id: a\n    backend: scripted\n    generator: {kind: markov, corpusFile: nope.txt}\n${AGENT('b')}`,
    at: '5:43',
    path: 'agents[0].generator.corpusFile',
    problem: /no such file: .*nope\.txt$/,
  },
  {
    name: 'duplicate agent ids',
    yaml: `name: t\nagents:\n${AGENT('a')}${AGENT('a')}`,
    at: '6:9',
    path: 'agents[1].id',
    problem: /duplicate agent id 'a'/,
  },
  {
    name: 'alternate with 3 agents',
    yaml: `name: t\nturnPolicy: alternate\nagents:\n${AGENT('a')}${AGENT('b')}${AGENT('c')}`,
    at: '2:13',
    path: 'turnPolicy',
    problem: /'alternate' needs exactly two agents; use round-robin or random for 3/,
  },
  {
    name: 'unknown turn policy',
    yaml: `name: t\nturnPolicy: shouting\nagents:\n${AGENT('a')}${AGENT('b')}`,
    at: '2:13',
    path: 'turnPolicy',
    problem: /"shouting" is not allowed \(one of "alternate", "round-robin", "random"\)/,
  },
  { name: 'not a mapping', yaml: `- just\n- a list\n`, at: null, problem: /expected a mapping/ },
  { name: 'alias without its anchor', yaml: `name: t\nagents: *nope\n`, at: null, problem: /not valid YAML: Unresolved alias/ },
  {
    name: 'onAttractor naming no detector',
    yaml: `name: t\nagents:\n${AGENT('a')}${AGENT('b')}stop:\n  onAttractor: [{action: stop, attractor: spiritual_blis}]\n`,
    at: null,
    path: 'stop.onAttractor[0].attractor',
    problem: /no detector named 'spiritual_blis'/,
  },
  { name: 'missing file', at: null, problem: /no such file/ },
];

describe('broken scenario files', () => {
  // Each case spawns a CLI; they are independent, so they run side by side.
  it.concurrent.for(CASES)('$name → exit 2 and one line naming the file, the place and the problem', async (c, ctx) => {
    const { expect } = ctx;
    const dir = tempDir(ctx);
    const file = join(dir, 'broken.yaml');
    if (c.yaml !== undefined) writeFileSync(file, c.yaml);
    const runsDir = join(dir, 'runs');
    const res = await runCli(['run', file, '--no-view', '--runs-dir', runsDir, '--quiet'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).not.toContain('    at ');
    expect(res.stderr.endsWith('\n')).toBe(true);
    const lines = res.stderr.slice(0, -1).split('\n');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    const head = new RegExp(`^arena run: ${escapeRegExp(file)}${c.at ? `:${c.at}` : ''}: `);
    expect(line, line).toMatch(head);
    const rest = line.replace(head, '');
    if (c.path) expect(rest.startsWith(`${c.path}: `), line).toBe(true);
    expect(rest).toMatch(c.problem);
    // Nothing was started.
    expect(existsSync(runsDir)).toBe(false);
  });

  it('a persona given as {file} is the file\'s text, read relative to the scenario', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sheets'));
    writeFileSync(join(dir, 'sheets', 'ada.md'), 'Ada, a ferry engineer who answers in questions.\n');
    const file = join(dir, 'persona.yaml');
    writeFileSync(file, `name: t\nagents:\n  - id: a\n    backend: scripted\n    persona: {file: sheets/ada.md}\n    generator: {kind: echo}\n${AGENT('b')}limits: {maxTurns: 2}\n`);
    const res = await runCli(['run', file, '--no-view', '--runs-dir', join(dir, 'runs'), '--quiet', '--json'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    const { runDir } = JSON.parse(res.stdout) as { runDir: string };
    const started = JSON.parse(readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n')[0]!) as { scenario: { agents: { persona?: string }[] } };
    expect(started.scenario.agents[0]!.persona).toBe('Ada, a ferry engineer who answers in questions.\n');
  });

  it('the same file without the mistake runs', async () => {
    const dir = tempDir();
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, `name: t\nagents:\n${AGENT('a')}${AGENT('b')}limits: {maxTurns: 2}\n`);
    const res = await runCli(['run', file, '--no-view', '--runs-dir', join(dir, 'runs'), '--quiet'], { cwd: dir });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  });
});
