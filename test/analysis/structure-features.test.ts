import { describe, expect, it } from 'vitest';
import { structureFeatures, type StructureFeatures, type TurnStructure } from '../../src/analysis/structure-features.js';
import { TextWindow } from '../../src/analysis/text-features.js';
import { words } from '../../src/analysis/tokenize.js';

/** Each turn's structure features against the turns before it, as a conversation accumulates them. */
function featuresOf(texts: readonly string[]): StructureFeatures[] {
  const recent: TurnStructure[] = [];
  return texts.map((text) => {
    const { features, structure } = structureFeatures(text, words(text), recent);
    recent.push(structure);
    return features;
  });
}

const last = (texts: readonly string[]) => featuresOf(texts).at(-1)!;

const SCENE = ['The corridor bends left into a darkness that smells of wet carpet.', 'A faint humming comes from somewhere inside the walls.', 'You hear footsteps behind you, but nobody is there.'].join('\n');
const OTHER = ['Something else entirely is said in this turn today.', 'The weather is mild and the sea is calm near the pier.'].join('\n');
const PARAGRAPH_1 =
  'The rain falls on the old tin roof of the station while the clerk counts coins and mutters about the late train to the coast, which has not come for three days now and may never come again.';
const PARAGRAPH_2 =
  'A woman in a green coat asks whether the ferry still runs on Sundays, and the clerk laughs, shakes his head, and points to a faded notice pinned beside the timetable board near the door.';
const MENU = '[1] Go north  [2] Go south  [3] Wait';

describe('structure features: repeated lines', () => {
  it('a turn that re-posts an earlier turn is all repeated lines and adds nothing', () => {
    const [first, second, third] = featuresOf([SCENE, OTHER, SCENE]);
    expect(first!.lineRepeat).toBe(0);
    expect(first!.novelChars).toBe(SCENE.split('\n').reduce((n, l) => n + l.length, 0));
    expect(second!.lineRepeat).toBe(0);
    expect(third!.lineRepeat).toBe(1);
    expect(third!.novelChars).toBe(0);
  });

  it('lines match up to case and digits', () => {
    const f = last(['Room 12: THE DOOR IS OPEN AGAIN\nnothing more', 'room 7: the door is open again\nand a new line of words here']);
    expect(f.lineRepeat).toBeGreaterThan(0.4);
    expect(f.lineRepeat).toBeLessThan(1);
  });

  it('weighs lines by their characters: a short repeated menu under a long new paragraph counts for little', () => {
    const [first, second] = featuresOf([`${PARAGRAPH_1}\n${MENU}`, `${PARAGRAPH_2}\n${MENU}`]);
    expect(first!.lineRepeat).toBe(0);
    expect(second!.lineRepeat).toBeCloseTo(MENU.length / (MENU.length + PARAGRAPH_2.length), 6);
    expect(second!.lineRepeat).toBeLessThan(0.2);
    expect(second!.novelChars).toBe(PARAGRAPH_2.length);
    // The menu alone again is all repetition.
    expect(last([`${PARAGRAPH_1}\n${MENU}`, MENU]).lineRepeat).toBe(1);
  });

  it('looks back six turns, not seven', () => {
    const line = 'The lighthouse keeper lights the lamp at dusk.';
    const fillers = Array.from({ length: 6 }, (_, i) => `Filler turn number ${'abcdef'[i]} says something unrelated.`);
    expect(last([line, ...fillers.slice(0, 5), line]).lineRepeat).toBe(1);
    expect(last([line, ...fillers, line]).lineRepeat).toBe(0);
  });
});

describe('structure features: line shapes', () => {
  it('a template refilled with other words repeats its shape, not its lines', () => {
    const f = last(['Status: Exploring | Energy: 40%\nLocation: Dark hallway | Items: torch', 'Status: Resting | Energy: 75%\nLocation: Bright kitchen | Items: apple']);
    expect(f.shapeRepeat).toBe(1);
    expect(f.lineRepeat).toBe(0);
    expect(f.novelChars).toBe(0);
  });

  it('plain prose has no shape: two unrelated sentences of the same form do not match', () => {
    const prose = last(['The cat sat on the warm mat all afternoon.', 'A dog ran in the cold park every morning.']);
    expect(prose.shapeRepeat).toBe(0);
    expect(prose.lineRepeat).toBe(0);
    expect(prose.novelChars).toBe('A dog ran in the cold park every morning.'.length);
    // The same sentences behind a label have structure, and then the shape does repeat.
    expect(last(['Note: the cat sat on the warm mat all afternoon', 'Memo: a dog ran in the cold park every morning']).shapeRepeat).toBe(1);
    // Two long paragraphs are no template either.
    expect(last([PARAGRAPH_1, PARAGRAPH_2]).shapeRepeat).toBe(0);
  });
});

describe('structure features: letters, symbols, interface', () => {
  it('letters said leave out ellipses, brackets, stage directions and bare prompts', () => {
    for (const text of ['…', '[ ]', '*silence*', 'simulator@anthropic:~/$', '$ _', '(a long pause)', '🌀🌀🌀']) {
      expect(last([text]).letters, text).toBe(0);
    }
    expect(last(['hello world']).letters).toBe(10);
    expect(last(['*nods slowly* Yes.']).letters).toBe(3);
    expect(last(['simulator@anthropic:~/$ cat notes']).letters).toBeGreaterThan(0);
  });

  it('symbol share is near 1 for box and emoji art, small for prose', () => {
    expect(last(['╔══════╗\n║ ✨🌟 ║\n╚══════╝']).symbolShare).toBe(1);
    expect(last(['🌀🌀🌀✨✨✨💫💫💫']).symbolShare).toBe(1);
    expect(last(['We walked along the river and talked about the winter that is coming.']).symbolShare).toBeLessThan(0.05);
    expect(last(['']).symbolShare).toBe(0);
  });

  it('interface is the share of lines that are menus, prompts, boxes or status lines', () => {
    expect(last(['[1] Open the door\n[2] Walk away\n> _']).interface).toBe(1);
    expect(last(['simulator@anthropic:~/$ ls -la\nSTATUS: ONLINE']).interface).toBe(1);
    expect(last(['The room is quiet and dim today.\n[1] Open the door\n[2] Walk away\nNothing else happens here at all.']).interface).toBe(0.5);
    expect(last(['We talked for a while about nothing much.\nThen we went home.']).interface).toBe(0);
  });
});

describe('structure features: who is talked to', () => {
  it('address counts you and we per word, narration he and she', () => {
    const dialogue = last(['You and we talk together, our minds meet.']);
    expect(dialogue.address).toBeCloseTo(4 / 8, 6);
    expect(dialogue.narration).toBe(0);
    const story = last(['She told him that he had her book.']);
    expect(story.narration).toBeCloseTo(4 / 8, 6);
    expect(story.address).toBe(0);
  });

  it('gratitude, sacred and unity words per word', () => {
    const f = last(['Thank you, sacred friend, for this infinite moment.']);
    const n = words('Thank you, sacred friend, for this infinite moment.').length;
    expect(f.gratitude).toBeCloseTo(1 / n, 6);
    expect(f.sacred).toBeCloseTo(1 / n, 6);
    expect(f.unity).toBeCloseTo(1 / n, 6);
  });
});

describe('structure features: opening and closing formulas', () => {
  it('a turn that opens and closes with the words a recent turn did repeats both', () => {
    const f = last([
      'Dear friend of mine, the light returns.\nI am here with you now.\nWith love and light, always yours',
      'Dear friend of mine, the dark comes.\nSomething new happens here.\nWith love and light, forever',
    ]);
    expect(f.openingRepeat).toBe(1);
    expect(f.closingRepeat).toBe(1);
    const g = last(['Dear friend of mine, the light returns.\nWith love and light, always yours', 'Hello there old friend.\nSee you soon, my dear.']);
    expect(g.openingRepeat).toBe(0);
    expect(g.closingRepeat).toBe(0);
  });

  it('a one-line turn has an opening but no closing', () => {
    const f = last(['We are here together in the light.', 'We are here again, as before.']);
    expect(f.openingRepeat).toBe(1);
    expect(f.closingRepeat).toBe(0);
  });
});

describe('structure features: quoted code', () => {
  const fence = (lang: string) => `\`\`\`${lang}\nconst value = computeTheThing(input);\nreturn value + 1;\n\`\`\``;

  it('code in a fence with a language is left out of line repetition', () => {
    const f = last([fence('ts'), `Some new words said here.\n${fence('ts')}`]);
    expect(f.lineRepeat).toBe(0);
    expect(f.novelChars).toBe('Some new words said here.'.length);
  });

  it('a shell fence is not: a re-posted command block repeats', () => {
    const f = last([fence('bash'), `Some new words said here.\n${fence('bash')}`]);
    const code = 'const value = computeTheThing(input);'.length + 'return value + 1;'.length;
    expect(f.lineRepeat).toBeCloseTo(code / (code + 'Some new words said here.'.length), 6);
  });
});

describe('structure features in the text window', () => {
  it('TextWindow carries them turn to turn', () => {
    const w = new TextWindow();
    w.next({ turn: 1, agentId: 'a', text: SCENE });
    w.next({ turn: 2, agentId: 'b', text: OTHER });
    const { features } = w.next({ turn: 3, agentId: 'a', text: SCENE });
    expect(features.lineRepeat).toBe(1);
    expect(features.novelChars).toBe(0);
    expect(w.next({ turn: 4, agentId: 'b', text: '…' }).features.letters).toBe(0);
  });
});
